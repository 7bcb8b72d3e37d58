export { TenantsModule } from './tenants.module.js';
export { TenantProfiles, type ProfileChoice, type ReloadOutcome } from './tenant-profiles.service.js';
export { TenantDirectory, type MatchedBy, type MatchRules, type TenantChoice, type TenantProfile } from './tenant-directory.js';
export { loadTenantsFile, withKnowledge, DEFAULT_PROFILE, type ToolCatalog, type TenantsFileContext, type LoadResult } from './load-tenants-file.js';
export { TenantsFileError, describeProblem, type TenantsFileProblem } from './tenants.errors.js';
export { tenantsConfig } from './tenants.config.js';
