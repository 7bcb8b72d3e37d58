import { UseFilters } from '@nestjs/common';
import { OpaqueHttpErrorsFilter } from './http-errors.filter.js';

/**
 * The controller answers failures that are not an `HttpMappedError` with a short generic body (`{ error:
 * 'request_failed' }`, `{ error: 'internal_error' }`) instead of Nest's default: webhook senders get nothing to
 * learn from, and always JSON of one shape. (The same filter as everywhere else, in its opaque mode.)
 */
export const OpaqueErrors = (): ClassDecorator & MethodDecorator => UseFilters(OpaqueHttpErrorsFilter);
