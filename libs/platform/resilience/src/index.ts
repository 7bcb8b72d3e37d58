export { Clock, SystemClock, systemClock, type Timer, type TimerOptions, type SleepOptions } from './clock.js';
export { ResilienceModule } from './resilience.module.js';
export { errorMessage, type ErrorMessageOptions } from './error-message.js';
export { TimeoutError, withTimeout, withTimeoutOr, type TimeoutOptions, type RejectingTimeoutOptions } from './timeout.js';
export { backoffDelay, equalJitter, fullJitter, noJitter, upwardJitter, type BackoffPolicy, type Jitter } from './backoff.js';
export { retry, type RetryPolicy, type RetryEvent } from './retry.js';
