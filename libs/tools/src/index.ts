export { ToolsModule } from './tools.module.js';
export { ToolRegistry } from './tool-registry.js';
