import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { CAMPAIGN_SEARCH_ATTRIBUTES } from '../../workflows/campaign-messages';
import { UPGRADE_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import type { TemporalTarget } from './connection-options';

const INDEXED_VALUE_TYPE: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  TEXT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  INT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  BOOL: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  DATETIME: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

/**
 * Registers our custom search attributes on an external cluster at worker start-up (the dev server gets them from
 * `--search-attribute`). Only the missing ones are added; a cluster that refuses (Temporal Cloud, missing
 * permission) is reported, not fatal — operators can add them with `temporal operator search-attribute create`.
 */
export async function ensureSearchAttributes({ connectionOptions, namespace }: TemporalTarget): Promise<{ added: string[]; error?: string }> {
  const connection = await Connection.connect(connectionOptions);
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const known = new Set(Object.keys(existing.customAttributes ?? {}));
    const missing = [...UPGRADE_SEARCH_ATTRIBUTES, ...CAMPAIGN_SEARCH_ATTRIBUTES].filter((key) => !known.has(key.name));
    if (missing.length === 0) return { added: [] };
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, INDEXED_VALUE_TYPE[key.type] ?? INDEXED_VALUE_TYPE.KEYWORD!])),
    });
    return { added: missing.map((key) => key.name) };
  } catch (error) {
    return { added: [], error: error instanceof Error ? error.message : String(error) };
  } finally {
    await connection.close();
  }
}
