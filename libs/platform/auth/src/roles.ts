/**
 * What a signed-in person may do. Today the one admin token signs in as `admin`; the console and the API already
 * ask for the least role a route needs, so read-only viewer and supervisor tokens can be added without touching
 * the routes.
 * - `viewer`: reads calls, transcripts, exports and statistics;
 * - `supervisor`: also acts on live calls (whisper, hang up, transfer);
 * - `admin`: everything.
 */
export type Role = 'viewer' | 'supervisor' | 'admin';

const RANK: Record<Role, number> = { viewer: 0, supervisor: 1, admin: 2 };

export const ROLES: readonly Role[] = ['viewer', 'supervisor', 'admin'];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && Object.hasOwn(RANK, value);
}

/** Whether `role` may do what `needed` may. */
export function satisfies(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}
