/** After the tests: repeats global-setup.js's notice when the PostgreSQL cases were skipped. */
'use strict';
module.exports = async function globalTeardown() {
  if (process.env.PEERBRIDGE_TEST_PG_SKIPPED) {
    process.stdout.write(`\n${process.env.PEERBRIDGE_TEST_PG_SKIPPED}\n`);
  }
};
