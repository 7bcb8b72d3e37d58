import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AuthModule } from '#auth';
import { CallsModule } from '#calls';
import { ConsoleModule } from '#console';
import { ConferenceModule } from '#conference';
import { appConfig } from '#config';
import { EventsModule } from '#events';
import { HealthModule } from '#health';
import { HttpErrorsModule } from '#http';
import { MetricsModule } from '#metrics';
import { NotificationsModule } from '#notifications';
import { OrderLookupModule } from '#order-lookup';
import { ResilienceModule } from '#resilience';
import { StorageModule } from '#storage';
import { TenantsModule } from '#tenants';
import { ToolsModule } from '#tools';
import { TranscriptsModule } from '#transcripts';
import { WebhooksModule } from '#webhooks';

/** The composition root: the feature modules, and nothing of its own. */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [appConfig] }),
    ResilienceModule,
    EventsModule,
    MetricsModule,
    StorageModule,
    HealthModule,
    HttpErrorsModule,
    AuthModule,
    CallsModule,
    ToolsModule,
    OrderLookupModule,
    TranscriptsModule,
    NotificationsModule,
    TenantsModule,
    ConferenceModule,
    WebhooksModule,
    ConsoleModule,
  ],
})
export class AppModule {}
