/** Injection token of the storage's `Kysely<StorageSchema>` instance (migrated before anything can inject it). */
export const KYSELY = Symbol('KYSELY');

/** Injection token of the storage's dialect (`StorageDialect`): `postgres` with DATABASE_URL, else `sqlite`. */
export const STORAGE_DIALECT = Symbol('STORAGE_DIALECT');
