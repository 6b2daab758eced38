import { createMemoryStorage } from '../../src/storage/memory.js';
import { runStorageContract } from '../storage-contract.js';

runStorageContract('memory', () => createMemoryStorage());
