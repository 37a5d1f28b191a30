export { freePort, waitForRedis } from '../../src/sim/redis-server.js';
