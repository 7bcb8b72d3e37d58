export { HttpErrorsModule } from './http-errors.module.js';
export { HttpErrorsFilter } from './http-errors.filter.js';
export { HttpMappedError, type HttpErrorLogLevel } from './http-error.js';
export { OpaqueErrors } from './opaque-errors.decorator.js';
