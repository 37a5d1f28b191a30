// Which poster each Plex item last got, kept in Redis (a hash of ratingKey → SHA-256 of the image).
import type { RedisConnection } from '../core/redis.js';
import type { PosterHashes } from './processor.js';

export function redisPosterHashes(redis: RedisConnection, key: string): PosterHashes {
  return {
    get: (ratingKey) => redis.hget(key, ratingKey),
    set: async (ratingKey, hash) => {
      await redis.hset(key, ratingKey, hash);
    },
  };
}
