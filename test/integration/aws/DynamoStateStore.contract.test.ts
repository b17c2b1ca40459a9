import { describeStateStoreContract } from '../../contract/stateStoreContract';
import { dynamoStoreFixture } from '../../support/dynamoStore';

describeStateStoreContract('DynamoStateStore (DynamoDB Local)', async () => {
  const fixture = await dynamoStoreFixture();
  return { store: fixture.store, outboxOf: fixture.outboxOf, close: fixture.close };
});
