export { OpenAIEmulator, EmulatedCall, type EmulatorOptions, type RecordedRequest, type HandshakeAttempt, type SidebandRecord, type FaultResponse, type PlaceCallOptions, type WebhookDelivery } from './openai-emulator.js';
export { ConversationScript, script, type HangupClose, type ScriptSource, type ScriptStep, type ServerEvent, type CallerTurnOptions, type AgentTurnOptions, type ToolCallOptions } from './conversation-script.js';
export { signWebhook, newWebhookSecret } from './webhook-signer.js';
export { demoConversation } from './demo-conversation.js';
export { FakeDiscord, DISCORD_SUCCESS_SHAPES, type DiscordSuccessShape, type FakeDiscordMessage, type FakeDiscordResponse, type FakeDiscordRequest, type FakeDiscordOptions } from './fake-discord.js';
export {
  FakeTwilio,
  TWILIO_REPLY_SHAPES,
  type TwilioReplyShape,
  type FakeTwilioOptions,
  type FakeTwilioRequest,
  type FakeTwilioResponse,
  type FakeTwilioCallback,
  type FakeParticipant,
  type FakeConference,
  type ParticipantEvent,
  type ParticipantStep,
  type PlacedCall,
  type FormParams,
} from './fake-twilio.js';
export { SUCCESS_SHAPES, ERROR_SHAPES, type SuccessShape, type ErrorShape } from './reply-shapes.js';
