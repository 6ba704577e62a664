/**
 * Export and import: every key of any store, or those under a prefix, at one revision, as a
 * portable file of JSON lines that any store can import ({@link dev.kv.core.backup.Exporter},
 * {@link dev.kv.core.backup.Importer}). The file's layout is {@link
 * dev.kv.core.backup.ExportFormat}'s.
 */
package dev.kv.core.backup;
