export enum ToolRegistrationErrorCode {
  InvalidName = 'invalid_name',
  DuplicateName = 'duplicate_name',
  NotSingleton = 'not_singleton',
  NotClassProvider = 'not_class_provider',
  InvalidDeclaration = 'invalid_declaration',
  UnknownName = 'unknown_name',
}

export interface ToolRegistrationProblem {
  code: ToolRegistrationErrorCode;
  message: string;
}

/** The application's tools are declared wrongly: the service does not start. */
export class ToolRegistrationError extends Error {
  constructor(readonly problems: ToolRegistrationProblem[]) {
    super(`Tools are declared wrongly, the service cannot start:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`);
    this.name = 'ToolRegistrationError';
  }

  get codes(): ToolRegistrationErrorCode[] {
    return this.problems.map((p) => p.code);
  }
}
