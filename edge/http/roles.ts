/**
 * Who may do what through the API. Roles are ordered: each includes what the ones before it may do.
 * viewer: read routes and the live stream · staff: + acknowledge/snooze/resolve alerts · manager: + prices and
 * campaigns · admin: + devices, tokens, configuration.
 */
export const ROLES = ['viewer', 'staff', 'manager', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** A person or system the API knows by its token: the name goes into alerts (`acknowledgedBy`) and the audit trail. */
export type Principal = {
  name: string;
  role: Role;
  /** which token this is (its stored digest): a name can be reused after a revoke, so streams and tickets opened with a
   * token are found by this when it is revoked */
  tokenId: string;
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function roleAllows(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}
