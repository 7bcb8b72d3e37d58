/** Injection token of the storage's `Kysely<StorageSchema>` instance (migrated before anything can inject it). */
export const KYSELY = Symbol('KYSELY');
