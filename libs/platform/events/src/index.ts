export { EventsModule } from './events.module.js';
export { EventBus, OnBridgeEvent } from './event-bus.js';
export type {
  BridgeEvents,
  BridgeEventName,
  CallEndReason,
  CallAcceptedEvent,
  CallAdoptedEvent,
  CallDetachedEvent,
  TransferTarget,
  CallRejectedEvent,
  CallEndedEvent,
  SidebandConnectedEvent,
  RealtimeEventReceived,
  TranscriptLine,
  CallTranscriptCompletedEvent,
  ToolTrigger,
  ToolInvocationStatus,
  ToolStartedEvent,
  ToolCompletedEvent,
  CallDtmfEvent,
  CallTransferEvent,
  TransferStatus,
} from './bridge-events.js';
export type { CallContext } from './call-context.js';
export type { RealtimeServerEvent, RealtimeClientEvent } from './realtime-event.js';
export { REALTIME_SERVER_EVENT_FIELDS, isKnownServerEventType, unknownFieldsOf } from './realtime-event-fields.js';
