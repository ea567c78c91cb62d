// The throwaway PostgreSQL lives beside the other stand-ins (the benchmarks use it too).
export { type Postgres, postgresAvailable, startPostgres } from '../../src/reference-endpoint/postgres.js';
