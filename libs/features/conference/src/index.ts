export { ConferenceModule } from './conference.module.js';
export {
  ConferenceLinks,
  CONFERENCE_LINK_TTL_MS,
  type ConferenceLink,
  type ConferenceLinkChanges,
  type NewConferenceLink,
  type AgentLegStatus,
} from './conference-links.js';
export { MemoryConferenceLinks } from './memory-conference-links.js';
export { SqlConferenceLinks } from './sql-conference-links.js';
export { ConferenceVoiceHandler, InvalidVoiceWebhook } from './conference-voice.handler.js';
export { ConferenceEventsHandler } from './conference-events.handler.js';
export { ConferenceCallLinker, type LinkedCall } from './conference-call-linker.js';
export { ConferenceTransfer } from './conference-transfer.js';
export { conferenceTwiml, unavailableTwiml, agentSipUri, CONFERENCE_EVENTS } from './conference-twiml.js';
