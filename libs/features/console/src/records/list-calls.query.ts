import { Type } from 'class-transformer';
import { IsDate, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

/** The filters of `GET /calls` and `GET /calls/export.csv`. */
export class CallFilters {
  /** `live`: calls in progress; `ended`: every other; `all` (the default). */
  @IsOptional()
  @IsIn(['live', 'ended', 'all'], { message: 'state must be live, ended or all' })
  state?: 'live' | 'ended' | 'all';

  /** Calls that ended for this reason (`transferred`, `remote_closed`, `unknown_number` …). */
  @IsOptional()
  @Matches(/^[a-z][a-z0-9_]{0,63}$/, { message: 'endReason must be an end reason such as remote_closed' })
  endReason?: string;

  /** Words to find in the transcripts (every word must appear in the call's transcript). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  /** Caller, dialled or forwarded-from number, E.164. */
  @IsOptional()
  @Matches(/^\+[1-9]\d{7,14}$/, { message: 'number must be an E.164 phone number such as +14155550123' })
  number?: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  profile?: string;

  /** Calls accepted at or after this time (ISO 8601). */
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'from must be an ISO 8601 date-time' })
  from?: Date;

  /** Calls accepted before this time (ISO 8601). */
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'to must be an ISO 8601 date-time' })
  to?: Date;
}

/** `GET /calls` query: newest first, filtered, a page at a time. */
export class ListCallsQuery extends CallFilters {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit = 20;

  @IsOptional()
  @IsString()
  @MaxLength(256)
  cursor?: string;
}
