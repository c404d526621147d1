export {
  startScriptedOpenAIServer,
  echoReply,
  type ScriptedOpenAIServer,
  type ScriptedOpenAIServerOptions,
  type ScriptedReply,
  type ScriptedRequest,
  type Script,
  type ChatCompletionRequestBody,
} from './scripted-openai-server.js';
