/**
 * `tom doctor [--json]`: the box's report (hardware, engines, models, readiness gates) is infra's own
 * (infra/doctor.ts); this is its entry in the command table.
 *
 * @module
 */
export { doctorMain } from "../../infra/mod.ts";
