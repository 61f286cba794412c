import { existsSync } from 'node:fs';
import path from 'node:path';
import { CalendarSchema, type Calendar } from '../calendar/sensitive-periods.js';
import { loadYamlFile } from '../config/load-yaml.js';
import { RosterSchema, type Roster } from '../duty/roster.js';
import { InvalidInputError } from '../errors.js';
import { PlansFileSchema, type PlanTemplate } from '../plans/response-plan.js';
import { EscalationConfigSchema, type EscalationPolicy } from './policy.js';

/** Everything alerting reads from YAML: the escalation policy, the calendar, the response plans and the roster seed. */
export interface AlertingFiles {
  policy: EscalationPolicy;
  calendar: Calendar;
  plans: PlanTemplate[];
  roster: Roster;
}

/**
 * Reads `escalation.yaml`, `calendar.yaml` and `plans.yaml` from `configDir` and the roster seed
 * (`roster.yaml`) from the unit's folder (`config/` or `config/demo/`). Errors name file, line and field.
 */
export function loadAlertingFiles(configDir: string, unitDir: string): AlertingFiles {
  const need = (dir: string, name: string) => {
    const file = path.join(dir, name);
    if (!existsSync(file)) throw new InvalidInputError(`${file} is missing (copy it from the repository's config/ and adapt it)`, 'config_missing');
    return file;
  };
  return {
    policy: loadYamlFile(EscalationConfigSchema, need(configDir, 'escalation.yaml')).policy,
    calendar: loadYamlFile(CalendarSchema, need(configDir, 'calendar.yaml')),
    plans: loadYamlFile(PlansFileSchema, need(configDir, 'plans.yaml')).plans,
    roster: loadYamlFile(RosterSchema, need(unitDir, 'roster.yaml')),
  };
}
