import type { CallAcceptParams } from 'openai/resources/realtime/calls';
import type { AgentProfile } from './agent-profile.js';

/**
 * The body of `POST /realtime/calls/{id}/accept` for a profile. What it leaves out matters as much:
 * no `audio.*.format` (SIP negotiates the codec in SDP) and none of the VAD tuning fields that a SIP accept rejects
 * with 400 "Unknown parameter" (threshold, prefix_padding_ms, silence_duration_ms).
 */
export function buildAcceptPayload(profile: AgentProfile): CallAcceptParams {
  const turnDetection =
    profile.turnDetection === 'semantic_vad'
      ? { type: 'semantic_vad' as const, eagerness: 'auto' as const, create_response: true, interrupt_response: true }
      : { type: 'server_vad' as const, create_response: true, interrupt_response: true };
  return {
    type: 'realtime',
    model: profile.model,
    instructions: profile.instructions,
    output_modalities: ['audio'],
    audio: {
      input: {
        ...(profile.transcription
          ? {
              transcription: {
                model: profile.transcription.model,
                ...(profile.transcription.language ? { language: profile.transcription.language } : {}),
              },
            }
          : {}),
        turn_detection: turnDetection,
      },
      output: { voice: profile.voice },
    },
    ...(profile.tools.length > 0 ? { tools: profile.tools, tool_choice: 'auto' as const } : {}),
  } as CallAcceptParams;
}
