// Every workflow the worker bundle registers.
export { orderWorkflow } from './order';
export { probeWorkflow } from './probe';
