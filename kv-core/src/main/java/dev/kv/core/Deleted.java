package dev.kv.core;

/**
 * What a delete did.
 *
 * @param count how many keys it deleted
 * @param revision the store revision once it was applied
 */
public record Deleted(long count, long revision) {}
