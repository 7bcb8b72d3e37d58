/**
 * `npm run validate:deploy` (builds first, then runs dist/scripts/validate-deploy/main.js): checks the deploy files
 * without a cluster or a Docker daemon.
 *  1. Every Kubernetes document under deploy/kubernetes against the Kubernetes JSON schemas (kubernetes-models ships
 *     them with a validate() per kind); kinds it has no schema for fail loudly instead of passing unchecked
 *     (kubernetes.ts).
 *  2. What a schema cannot see (deployment.ts): probes on the app's endpoints and port, environment names the app
 *     documents in .env.example, credentials only from the Secret and every referenced key present in
 *     secret.example.yaml, what the service does not start without set, the grace period covering preStop + drain +
 *     the outbox flush, a non-root read-only container, selectors that select the pods, and kustomization.yaml
 *     listing what it should (and no example). The tenants file is loaded with the service's own loader, as the pod
 *     would see it, against the agent settings of the Deployment and the tools the service's own registry offers in
 *     that environment (tenants-file.ts, tool-catalog.ts).
 *  3. docker-compose.yml: PostgreSQL wired with a healthcheck, the bridge's environment documented, its stop grace
 *     period covering the drain, the demo profile present (compose.ts).
 * Usage: node dist/scripts/validate-deploy/main.js [--dir deploy/kubernetes] [--env-example .env.example]
 *                                                  [--compose docker-compose.yml | --no-compose]
 * Exit 0 when everything holds; otherwise every problem is printed (file:line, the object, why) and the exit is 1.
 * It runs from the build: the service's code it asks (#tenants, #tools, #calls, #config, #bridge) is dist/'s.
 * The schemas accept unknown fields, as the API server's non-strict mode does: the checks therefore assert the
 * fields that matter are present, rather than trusting that a misspelt one would be noticed.
 */
import 'reflect-metadata';
import { join, resolve } from 'node:path';
import { validateCompose } from './compose.js';
import { validateKubernetes } from './kubernetes.js';
import { loadBuiltService } from './service.js';
import { ROOT, Validation } from './validation.js';

interface Options {
  dir: string;
  envExample: string;
  /** Undefined with --no-compose. */
  compose?: string;
}

const FLAGS = { '--dir': 'dir', '--env-example': 'envExample', '--compose': 'compose' } as const;

function parseArguments(args: string[]): Options {
  const parsed: Options = {
    dir: join(ROOT, 'deploy/kubernetes'),
    envExample: join(ROOT, '.env.example'),
    compose: join(ROOT, 'docker-compose.yml'),
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    if (flag === '--no-compose') parsed.compose = undefined;
    else if (flag in FLAGS && args[i + 1]) parsed[FLAGS[flag as keyof typeof FLAGS]] = resolve(args[++i]!);
    else {
      console.error(`unknown argument ${flag}\nusage: validate-deploy [--dir d] [--env-example f] [--compose f | --no-compose]`);
      process.exit(2);
    }
  }
  return parsed;
}

const options = parseArguments(process.argv.slice(2));
const service = await loadBuiltService();
if (!service) process.exit(1);
const validation = new Validation(service, options.envExample);

await validateKubernetes(validation, options.dir);
if (options.compose) validateCompose(validation, options.compose);

if (validation.problems.length > 0) {
  for (const problem of validation.problems) console.error(`✗ ${problem}`);
  console.error(`\n${validation.problems.length} problem${validation.problems.length === 1 ? '' : 's'} in the deploy files`);
  process.exit(1);
}
for (const line of validation.checked) console.log(`✓ ${line}`);
// Nothing it started (the tools' providers) may keep the process alive.
process.exit(0);
