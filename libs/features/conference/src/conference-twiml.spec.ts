import { describe, expect, it } from '@jest/globals';
import { agentSipUri, conferenceTwiml, unavailableTwiml } from './conference-twiml.js';

describe('conference TwiML', () => {
  it('puts the caller in a conference named after their CallSid, labelled customer, with events to our callback', () => {
    expect(conferenceTwiml('CA0123456789abcdef0123456789abcdef', 'https://bridge.example.com/twilio/conference-events')).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Dial>' +
        '<Conference participantLabel="customer" startConferenceOnEnter="true" endConferenceOnExit="true" beep="false" ' +
        'statusCallback="https://bridge.example.com/twilio/conference-events" statusCallbackEvent="start end join leave" ' +
        'statusCallbackMethod="POST">CA0123456789abcdef0123456789abcdef</Conference></Dial></Response>',
    );
  });

  it('escapes what it writes into XML', () => {
    expect(conferenceTwiml('CA1', 'https://bridge.example.com/a?x=1&y=<2>')).toContain(
      'statusCallback="https://bridge.example.com/a?x=1&amp;y=&lt;2>"',
    );
  });

  it('apologises and hangs up when the agent cannot be put on the line', () => {
    expect(unavailableTwiml()).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say>We\'re sorry, we cannot take your call right now. ' +
        'Please try again later.</Say><Hangup/></Response>',
    );
  });

  it("dials the OpenAI project's SIP connector over TLS with the conference name as X-conferenceName", () => {
    expect(agentSipUri('proj_abc123', 'CA0123456789abcdef0123456789abcdef')).toBe(
      'sip:proj_abc123@sip.api.openai.com;transport=tls?X-conferenceName=CA0123456789abcdef0123456789abcdef',
    );
  });
});
