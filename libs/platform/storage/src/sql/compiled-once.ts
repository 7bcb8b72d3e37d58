import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';

/** Stands for the `index`-th value of a statement while it is compiled; replaced by the real value at each run. */
class Slot {
  constructor(readonly index: number) {}
}

/**
 * A statement the service runs on every call (the accept path's claims, the call record's insert and update), built
 * and compiled by Kysely once per database, then run with new values. Kysely otherwise rebuilds the operation tree
 * and compiles it to SQL on every execution, which cost more than SQLite running the statement.
 *
 * `build` receives the database and one placeholder per value (typed as the value, for the builder's sake), and
 * must produce SQL that does not depend on the values: no optional columns, no `is null` chosen from a value.
 */
export class CompiledOnce<DB, Values extends unknown[], Row = unknown> {
  private readonly compiled = new WeakMap<Kysely<DB>, CompiledQuery<Row>>();

  constructor(private readonly build: (db: Kysely<DB>, ...slots: Values) => Compilable<Row>) {}

  run(db: Kysely<DB>, ...values: Values): Promise<QueryResult<Row>> {
    return this.runIn(db, db, ...values);
  }

  /** `run` on `executor`, a transaction begun on `db`: compiled once for `db`, not once per transaction. */
  runIn(executor: Kysely<DB>, db: Kysely<DB>, ...values: Values): Promise<QueryResult<Row>> {
    let compiled = this.compiled.get(db);
    if (!compiled) {
      const slots = values.map((_, index) => new Slot(index)) as unknown as Values;
      compiled = this.build(db, ...slots).compile();
      this.compiled.set(db, compiled);
    }
    const parameters = compiled.parameters.map((parameter) => (parameter instanceof Slot ? values[parameter.index] : parameter));
    return executor.executeQuery<Row>({ ...compiled, parameters });
  }
}
