/**
 * Lua for a key held under a random token (a lock, a lease, a claim): KEYS[1] the key, ARGV[1] the
 * token. Each checks the token and acts in one step, so a holder whose lease ran out never deletes
 * or extends the key of the holder after it. Both answer 1 when they acted, else 0.
 */
export const DELETE_IF_OWNER = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** ARGV[2]: the new lease in milliseconds. */
export const RENEW_IF_OWNER = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2])) end return 0`;
