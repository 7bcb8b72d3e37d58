export { TwilioModule } from './twilio.module.js';
export { twilioConfig, AGENT_LABEL, CALLER_LABEL, type TwilioConfig } from './twilio.config.js';
export { TwilioVoice, WEBHOOK_REQUEST_BUDGET_MS, type NewParticipant, type AddedParticipant, type RequestOptions } from './twilio-voice.js';
export { TwilioSignature, type TwilioParams } from './twilio-signature.js';
export { TwilioRequestError, TwilioErrorCode } from './twilio.errors.js';
export { TwilioRequestClient, rebase } from './twilio-request-client.js';
export { parseForm, param, CALL_SID, CONFERENCE_SID } from './twilio-form.js';
