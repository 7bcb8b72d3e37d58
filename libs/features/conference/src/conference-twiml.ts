import twilio from 'twilio';
import { AGENT_LABEL, CALLER_LABEL } from '#twilio';

export { AGENT_LABEL, CALLER_LABEL };
/** The conference events sent to `POST /twilio/conference-events`. */
export const CONFERENCE_EVENTS = ['start', 'end', 'join', 'leave'] as const;

const OPENAI_SIP_HOST = 'sip.api.openai.com';

/**
 * The TwiML answering a Twilio voice webhook: the caller joins a conference named after their CallSid. The
 * conference starts with them and ends when they leave; nobody hears a beep when someone joins (the agent is
 * added in parallel, the human later); its events are sent to `statusCallbackUrl`.
 */
export function conferenceTwiml(conferenceName: string, statusCallbackUrl: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.dial().conference(
    {
      participantLabel: CALLER_LABEL,
      startConferenceOnEnter: true,
      endConferenceOnExit: true,
      beep: 'false',
      statusCallback: statusCallbackUrl,
      statusCallbackEvent: [...CONFERENCE_EVENTS],
      statusCallbackMethod: 'POST',
    },
    conferenceName,
  );
  return response.toString();
}

/** What a caller hears when the agent cannot be put on the line: an apology, then the call ends. */
export function unavailableTwiml(): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say("We're sorry, we cannot take your call right now. Please try again later.");
  response.hangup();
  return response.toString();
}

/**
 * The agent's leg: the OpenAI project's SIP connector, over TLS, with the conference's name as the
 * `X-conferenceName` header (Twilio turns `?X-…=` URI parameters into SIP headers), so that OpenAI's webhook for
 * the call names the conference it belongs to.
 */
export function agentSipUri(openaiProjectId: string, conferenceName: string): string {
  return `sip:${openaiProjectId}@${OPENAI_SIP_HOST};transport=tls?X-conferenceName=${encodeURIComponent(conferenceName)}`;
}
