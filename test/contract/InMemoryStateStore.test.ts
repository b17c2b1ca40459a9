import { InMemoryStateStore } from '../../runtime-lambda/local/InMemoryStateStore';
import { describeStateStoreContract } from './stateStoreContract';

describeStateStoreContract('InMemoryStateStore', async () => {
  const store = new InMemoryStateStore();
  return {
    store,
    outboxOf: async (address) => store.outbox.filter((e) => e.address.key === address.key).map((e) => e.effects),
  };
});
