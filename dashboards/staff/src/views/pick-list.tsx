// Placeholder of the Pick list view (issue 23): its owner replaces this file (page-contract.md).
export function PickListView() {
  return (
    <section class="view" aria-labelledby="view-heading">
      <h2 id="view-heading" tabIndex={-1}>
        Pick list
      </h2>
      <p class="view__empty">Coming soon.</p>
    </section>
  );
}
