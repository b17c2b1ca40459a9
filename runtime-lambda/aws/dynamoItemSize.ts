import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** The most a DynamoDB item may weigh, attribute names included: 400 KB. */
export const MAX_ITEM_BYTES = 400 * 1024;

const utf8 = (text: string): number => Buffer.byteLength(text, 'utf8');

/**
 * The size DynamoDB charges and limits for `item`, computed the documented way: attribute
 * names count as UTF-8 bytes, strings and binaries as their length, a number as one byte
 * per two significant digits plus one, a map or list as 3 bytes plus one per element plus
 * its elements. Slightly conservative, so an item under {@link MAX_ITEM_BYTES} here is
 * accepted by DynamoDB.
 *
 * @example
 * dynamoItemSize({ pk: { S: 'a' }, n: { N: '42' } }); // 2 + 1 + 1 + 2 = 6
 */
export function dynamoItemSize(item: Record<string, AttributeValue>): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) total += utf8(name) + attributeSize(value);
  return total;
}

function attributeSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.M !== undefined) {
    let total = 3;
    for (const [name, inner] of Object.entries(value.M)) total += 1 + utf8(name) + attributeSize(inner);
    return total;
  }
  if (value.L !== undefined) return value.L.reduce((sum, inner) => sum + 1 + attributeSize(inner), 3);
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberSize(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.byteLength, 0);
  return 0;
}

function numberSize(text: string): number {
  const digits = text.replace(/^[-+]/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}
