import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { TenantProfiles } from './tenant-profiles.service.js';
import { tenantsConfig } from './tenants.config.js';
import { CallsModule } from '#calls';
import { NotificationsModule } from '#notifications';
import { ToolsModule } from '#tools';

/**
 * Per-number agents (TENANTS_FILE): the profile that answers each call, chosen from its SIP headers. Where profiles
 * meet the tool registry (which tools a profile offers) and the notification destinations (its own Discord webhooks).
 */
@Module({
  imports: [ConfigModule.forFeature(tenantsConfig), CallsModule, ToolsModule, NotificationsModule],
  providers: [TenantProfiles],
  exports: [TenantProfiles],
})
export class TenantsModule {}
