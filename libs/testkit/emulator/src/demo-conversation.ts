import { script, type ConversationScript } from './conversation-script.js';

/**
 * The call `npm run demo` places: a short order enquiry with the real difficulties in it — a caller
 * transcription that completes after the agent answered, key presses, a recoverable error, an interruption.
 */
export function demoConversation(pauseMs = 120): ConversationScript {
  return script()
    .expect('response.create', 5000)
    .agentSays('Thanks for calling Acme, how can I help?')
    .pause(pauseMs)
    .callerSays("Hi, I'd like to check on my order.")
    .pause(pauseMs)
    .agentSays('Of course. What is the order number?')
    .pause(pauseMs)
    .callerSays('It is four two one seven.', { transcription: 'late' })
    .agentSays('Thanks. Order 4217 shipped yesterday and arrives on Monday.')
    .pause(pauseMs)
    .dtmf('1#')
    .error('invalid_event', 'Demo: a recoverable error; the call goes on.')
    .agentSays('Is there anything else I can help you with today?', { interruptedAfterWords: 4 })
    .callerSays("No, that's all. Thanks, bye!")
    .pause(pauseMs)
    .agentSays('Goodbye, and have a great day!')
    .pause(pauseMs)
    .hangup();
}
