// Placeholder of the Campaigns view (issue 23): its owner replaces this file (page-contract.md).
export function CampaignsView() {
  return (
    <section class="view" aria-labelledby="view-heading">
      <h2 id="view-heading" tabIndex={-1}>
        Campaigns
      </h2>
      <p class="view__empty">Coming soon.</p>
    </section>
  );
}
