import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  MaxLength,
  MinLength,
  ValidateBy,
  ValidateNested,
  type ValidationOptions,
} from 'class-validator';
import { toE164 } from '#calls';

/**
 * The shape of a tenants file, as class-validator checks it. Values are checked here; what needs the file system or
 * the tool registry (instruction and knowledge files, tool names, the knowledge cap, ambiguous matches) is checked
 * when the profiles are built. No message ever repeats a value: it may be a phone number or a webhook URL.
 */

const QUOTE_NUMBERS = 'must be quoted phone numbers such as "+14155550123" (YAML reads an unquoted +1… as a number)';

function IsPhoneNumber(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isPhoneNumber',
      validator: {
        // A value that is not text is IsString's to report (an unquoted +1… that YAML read as a number).
        validate: (value: unknown) => typeof value !== 'string' || toE164(value) !== undefined,
        defaultMessage: () => 'must be phone numbers in E.164 format, such as "+14155550123" (spaces and dashes are fine)',
      },
    },
    options,
  );
}

function IsSmallJsonObject(maxChars: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isSmallJsonObject',
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
          try {
            return JSON.stringify(value).length <= maxChars;
          } catch {
            return false;
          }
        },
        defaultMessage: () => `must be a mapping of at most ${maxChars} characters as JSON`,
      },
    },
    options,
  );
}

export class MatchDto {
  /** Dialled numbers (the To header). */
  @IsOptional()
  @IsArray({ message: 'must be a list of phone numbers' })
  @ArrayMaxSize(1000, { message: 'must list at most 1000 numbers' })
  @IsString({ each: true, message: QUOTE_NUMBERS })
  @IsPhoneNumber({ each: true })
  dialled?: string[];

  /** Numbers the call was forwarded from (Diversion / History-Info). */
  @IsOptional()
  @IsArray({ message: 'must be a list of phone numbers' })
  @ArrayMaxSize(1000, { message: 'must list at most 1000 numbers' })
  @IsString({ each: true, message: QUOTE_NUMBERS })
  @IsPhoneNumber({ each: true })
  forwardedFrom?: string[];

  /** Values of the file's `tenantHeader` SIP header. */
  @IsOptional()
  @IsArray({ message: 'must be a list of header values' })
  @ArrayMaxSize(1000, { message: 'must list at most 1000 values' })
  @IsString({ each: true, message: 'must be header values (text)' })
  @MinLength(1, { each: true, message: 'must not contain an empty value' })
  @MaxLength(256, { each: true, message: 'must be header values of at most 256 characters' })
  header?: string[];
}

export class KnowledgeDto {
  @IsOptional()
  @IsString({ message: 'must be text' })
  @MaxLength(200, { message: 'must be at most 200 characters' })
  title?: string;

  @IsOptional()
  @IsString({ message: 'must be text' })
  text?: string;

  /** Relative to the tenants file's directory. */
  @IsOptional()
  @IsString({ message: 'must be a file path' })
  @MaxLength(1024, { message: 'must be at most 1024 characters' })
  file?: string;
}

export class TranscriptionDto {
  /** `none` turns caller transcription off. */
  @IsOptional()
  @IsString({ message: 'must be a transcription model name, or none' })
  @MaxLength(128, { message: 'must be at most 128 characters' })
  model?: string;

  @IsOptional()
  @Matches(/^[a-z]{2,3}(-[A-Za-z]{2,4})?$/, { message: 'must be a language code such as en or pt-BR' })
  language?: string;
}

export class TransferDto {
  @IsOptional()
  @IsString({ message: QUOTE_NUMBERS })
  @IsPhoneNumber()
  humanAgentNumber?: string;

  /** The same rule as TRANSFER_SIP_URI. */
  @IsOptional()
  @Matches(/^sips?:[^\s<>"@]+@[A-Za-z0-9.[\]:-]+(;[^\s<>"]*)?$/, { message: 'must be a SIP URI such as sip:agent@pbx.example.com' })
  sipUri?: string;
}

export class NotificationsDto {
  /** Discord webhook URLs: secrets, never repeated in a message or a log. */
  @IsOptional()
  @IsArray({ message: 'must be a Discord webhook URL or a list of them' })
  @ArrayMaxSize(10, { message: 'must list at most 10 webhooks' })
  @IsUrl(
    { require_tld: false, protocols: ['http', 'https'], require_protocol: true },
    { each: true, message: 'must be Discord webhook URLs (https://discord.com/api/webhooks/…)' },
  )
  discord?: string[];

  /** Also post to DISCORD_WEBHOOK_URL (by default a profile's own webhooks replace it). */
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  includeDefault?: boolean;
}

export class ProfileDto {
  @IsOptional()
  @IsObject({ message: 'must be a mapping with dialled, forwardedFrom and/or header' })
  @ValidateNested()
  @Type(() => MatchDto)
  match?: MatchDto;

  @IsOptional()
  @IsString({ message: 'must be text' })
  @MaxLength(100_000, { message: 'must be at most 100,000 characters' })
  instructions?: string;

  /** Relative to the tenants file's directory. */
  @IsOptional()
  @IsString({ message: 'must be a file path' })
  @MaxLength(1024, { message: 'must be at most 1024 characters' })
  instructionsFile?: string;

  @IsOptional()
  @IsArray({ message: 'must be a list of snippets (text, or {title, text} / {title, file})' })
  @ArrayMaxSize(100, { message: 'must list at most 100 snippets' })
  @IsObject({ each: true, message: 'must be a list of snippets (text, or {title, text} / {title, file})' })
  @ValidateNested({ each: true })
  @Type(() => KnowledgeDto)
  knowledge?: KnowledgeDto[];

  @IsOptional()
  @IsString({ message: 'must be a model name' })
  @MinLength(1, { message: 'must be a model name' })
  @MaxLength(128, { message: 'must be at most 128 characters' })
  model?: string;

  @IsOptional()
  @Matches(/^[a-z0-9_-]{1,32}$/, { message: 'must be a voice name such as marin, cedar or alloy' })
  voice?: string;

  /** Empty: no greeting, even when WELCOME_MESSAGE is set. */
  @IsOptional()
  @IsString({ message: 'must be text' })
  @MaxLength(2000, { message: 'must be at most 2000 characters' })
  welcomeMessage?: string;

  @IsOptional()
  @IsObject({ message: 'must be none, or a mapping with model and/or language' })
  @ValidateNested()
  @Type(() => TranscriptionDto)
  transcription?: TranscriptionDto;

  @IsOptional()
  @IsIn(['semantic_vad', 'server_vad'], { message: 'must be semantic_vad or server_vad' })
  turnDetection?: 'semantic_vad' | 'server_vad';

  @IsOptional()
  @IsArray({ message: 'must be a list of tool names' })
  @ArrayMaxSize(100, { message: 'must list at most 100 tools' })
  @IsString({ each: true, message: 'must be a list of tool names' })
  tools?: string[];

  @IsOptional()
  @IsObject({ message: 'must be a mapping with humanAgentNumber and/or sipUri' })
  @ValidateNested()
  @Type(() => TransferDto)
  transfer?: TransferDto;

  @IsOptional()
  @IsObject({ message: 'must be a mapping with discord and/or includeDefault' })
  @ValidateNested()
  @Type(() => NotificationsDto)
  notifications?: NotificationsDto;

  /** Stored as is on the record of every call the profile answers. */
  @IsOptional()
  @IsSmallJsonObject(4096)
  metadata?: Record<string, unknown>;
}

export class UnmatchedDto {
  @IsIn(['default', 'reject'], { message: 'must be default or reject' })
  action!: 'default' | 'reject';

  @IsOptional()
  @IsIn([486, 603], { message: 'must be 486 (Busy Here) or 603 (Decline)' })
  status?: 486 | 603;
}

/** The top of the file; `profiles` is a mapping of name → profile, each validated on its own. */
export class TenantsFileDto {
  /** The SIP header whose value names a profile (`match.header`), e.g. X-Tenant. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, { message: 'must be a SIP header name such as X-Tenant' })
  tenantHeader?: string;

  @IsOptional()
  @IsObject({ message: 'must be a mapping with action (default or reject) and status' })
  @ValidateNested()
  @Type(() => UnmatchedDto)
  unmatched?: UnmatchedDto;

  @IsObject({ message: 'must be a mapping of profile names to profiles' })
  profiles!: Record<string, unknown>;
}
