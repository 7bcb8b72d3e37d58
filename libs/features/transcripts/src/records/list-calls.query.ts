import { Type } from 'class-transformer';
import { IsDate, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

/** `GET /calls` query: newest first, filtered by number, profile and time. */
export class ListCallsQuery {
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
