export * from './billing-period';
export * from './imagine';
