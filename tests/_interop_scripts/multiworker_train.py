# Train a model with a fixed fixedfilters stem on several workers (one process per host).
# Run on every worker:  python multiworker_train.py INDEX HOST0:PORT,HOST1:PORT [OUT.npz]
import json
import os
import sys

os.environ["KERAS_BACKEND"] = "tensorflow"
index, workers = int(sys.argv[1]), sys.argv[2].split(",")
os.environ["TF_CONFIG"] = json.dumps(
    {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import fixedfilters as ff  # noqa: E402

strategy = tf.distribute.MultiWorkerMirroredStrategy()  # before any other TensorFlow call
GLOBAL_BATCH, STEPS = 64, 10

with strategy.scope():  # variables are created mirrored, initial values from worker 0
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            ff.edge_stem(name="stem"),  # fixed taps: never trained, never all-reduced
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10),
        ]
    )
    optimizer = keras.optimizers.Adam(0.01)
    optimizer.build(model.trainable_variables)
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")

digits = load_digits()
images, labels = digits.images[..., None].astype("float32"), digits.target.astype("int32")


def dataset_fn(context):  # each worker reads its own shard; the global batch is split
    ds = tf.data.Dataset.from_tensor_slices((images, labels))
    ds = ds.shard(context.num_input_pipelines, context.input_pipeline_id).repeat()
    return ds.batch(context.get_per_replica_batch_size(GLOBAL_BATCH))


batches = iter(strategy.distribute_datasets_from_function(dataset_fn))


@tf.function
def train_step(iterator):
    def step(x, y):
        with tf.GradientTape() as tape:
            per_example = loss_fn(y, model(x, training=True))
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=GLOBAL_BATCH)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)  # all-reduces the gradients
        return loss

    return strategy.reduce("SUM", strategy.run(step, args=next(iterator)), axis=None)


taps = model.get_layer("stem").weights
taps_before = [w.numpy() for w in taps]
initial = [w.numpy() for w in model.trainable_variables]
losses = [float(train_step(batches)) for _ in range(STEPS)]
print(f"worker {index}: replicas {strategy.num_replicas_in_sync}, losses {losses}", flush=True)
if len(sys.argv) > 3:  # what the test compares across workers
    np.savez(
        sys.argv[3],
        losses=np.array(losses),
        **{f"initial_{i}": v for i, v in enumerate(initial)},
        **{f"trained_{i}": w.numpy() for i, w in enumerate(model.trainable_variables)},
        **{f"tap_before_{i}": v for i, v in enumerate(taps_before)},
        **{f"tap_after_{i}": w.numpy() for i, w in enumerate(taps)},
    )
