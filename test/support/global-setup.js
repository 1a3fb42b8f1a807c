/**
 * Before the tests: when PEERBRIDGE_TEST_PG is not set and no PostgreSQL answers at
 * 127.0.0.1:5432, the store tests run on PGlite only (PEERBRIDGE_TEST_PG=off for the workers) and
 * this says so plainly, here and again after the run (global-teardown.js). CI sets
 * PEERBRIDGE_TEST_PG, so there every PostgreSQL case runs, and fails if the server is missing.
 */
'use strict';
const net = require('node:net');

function answers(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1500);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

const NOTICE =
  'PostgreSQL is not answering at 127.0.0.1:5432, so the store, API and auth tests run on PGlite only:\n' +
  'their PostgreSQL cases and test/store/multi-process.test.ts are SKIPPED.\n' +
  'To run them: start PostgreSQL there (user postgres, trust auth), or set\n' +
  'PEERBRIDGE_TEST_PG=postgres://<user>@<host>:<port>/<database> (PEERBRIDGE_TEST_PG=off skips them without this notice).';

module.exports = async function globalSetup() {
  if (process.env.PEERBRIDGE_TEST_PG !== undefined) {
    return;
  }
  if (!(await answers('127.0.0.1', 5432))) {
    process.env.PEERBRIDGE_TEST_PG = 'off';
    process.env.PEERBRIDGE_TEST_PG_SKIPPED = NOTICE;
    process.stdout.write(`\n${NOTICE}\n\n`);
  }
};
