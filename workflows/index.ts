// Every workflow the worker bundle registers.
export { probeWorkflow } from './probe';
