/** One thing wrong with a tenants file: where (profile, field) and what. Never the offending value. */
export interface TenantsFileProblem {
  profile?: string;
  /** Path of the field inside the profile (or the file), e.g. `match.dialled[1]`. */
  field?: string;
  message: string;
}

/** The tenants file cannot be used: at start-up the service does not start; on a reload the old profiles stay. */
export class TenantsFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: TenantsFileProblem[],
  ) {
    super(`Invalid tenants file ${file}:\n${problems.map((p) => `  - ${describeProblem(p)}`).join('\n')}`);
    this.name = 'TenantsFileError';
  }
}

export function describeProblem({ profile, field, message }: TenantsFileProblem): string {
  const where = [profile === undefined ? '' : `profile "${profile}"`, field ?? ''].filter(Boolean).join(': ');
  return where ? `${where}: ${message}` : message;
}
