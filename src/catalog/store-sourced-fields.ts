import type { Models } from '../db/models';
import type { Product } from '../domain';

/** Writes only what Microsoft's sources own: name, seat limits, prices. Promotions, paths and SKU ids are kept. */
export async function storeSourcedFields(models: Models, products: readonly Product[]): Promise<void> {
  await Promise.all(
    products.map((product) =>
      models.products.updateOne(
        { _id: product.productId },
        { $set: { name: product.name, minQuantity: product.minQuantity, maxQuantity: product.maxQuantity, prices: product.prices } },
      ),
    ),
  );
}
