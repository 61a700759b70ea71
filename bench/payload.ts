/** A constant JSON body of about 1.5 KB. */
export const PAYLOAD = {
  items: Array.from({ length: 12 }, (_, i) => ({
    id: i + 1,
    name: `Item number ${i + 1}`,
    tags: ['alpha', 'beta'],
    price: 10.5 + i,
    inStock: i % 2 === 0,
    description: 'A fixed description.',
  })),
};
