import type { Provider } from '@nestjs/common';
import OpenAI from 'openai';
import { openaiConfig } from './calls.config.js';
import { OpenAIHttpTransport } from './openai-http-transport.js';
import type { ConfigType } from '#config';

export const OPENAI_CLIENT = Symbol('OPENAI_CLIENT');

/** The one OpenAI SDK client of the process; its base URL is what points the whole service at a local emulator. */
export const openaiClientProvider: Provider = {
  provide: OPENAI_CLIENT,
  inject: [openaiConfig.KEY, OpenAIHttpTransport],
  useFactory: (config: ConfigType<typeof openaiConfig>, transport: OpenAIHttpTransport) =>
    new OpenAI({ apiKey: config.apiKey, baseURL: config.baseUrl, logLevel: 'off', maxRetries: 1, fetch: transport.fetch }),
};
