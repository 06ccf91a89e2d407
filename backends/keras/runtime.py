"""The helper functions and layers that emitted Keras code needs, kept here as real code.

Emitted files must import nothing but keras, so each one carries a copy of the helpers it uses.
Keeping the originals in this module means they are linted and unit-tested like any other code;
`emit.py` copies their source text verbatim (`inspect.getsource`) into each file, in the order of
`HELPERS`. Nothing here knows about inceptdsl.

The layers are registered with Keras under the package `inceptdsl` (`inceptdsl>Scale`, ...), so
a saved `.keras` file loads again once this module or an emitted file has been imported.
Importing `inceptdsl.backends.keras` imports this module.
"""

from __future__ import annotations

import keras
from keras import layers


def conv_bn(
    x: keras.KerasTensor,
    filters: int,
    kernel_size: int | tuple[int, int],
    strides: int | tuple[int, int] = 1,
    padding: str | tuple[tuple[int, int], tuple[int, int]] = "valid",
    dilation_rate: int | tuple[int, int] = 1,
    groups: int = 1,
    use_bias: bool = True,
    epsilon: float = 1e-3,
    momentum: float = 0.99,
    scale: bool = True,
    center: bool = True,
    activation: str | None = None,
    depthwise: bool = False,
    name: str = "conv_bn",
) -> keras.KerasTensor:
    """Conv2D (a DepthwiseConv2D if `depthwise`), BatchNormalization, then an optional
    Activation (keras.applications' conv2d_bn).

    The layers are `{name}.conv`, `{name}.bn` and `{name}.act`. `padding` is "valid", "same" or
    explicit pixels ((top, bottom), (left, right)), added by a ZeroPadding2D `{name}.pad`.
    """
    if not isinstance(padding, str):
        x = layers.ZeroPadding2D(padding, name=f"{name}.pad")(x)
        padding = "valid"
    if depthwise:
        x = layers.DepthwiseConv2D(
            kernel_size,
            strides,
            padding,
            depth_multiplier=filters // x.shape[-1],
            dilation_rate=dilation_rate,
            use_bias=use_bias,
            name=f"{name}.conv",
        )(x)
    else:
        x = layers.Conv2D(
            filters,
            kernel_size,
            strides,
            padding,
            dilation_rate=dilation_rate,
            groups=groups,
            use_bias=use_bias,
            name=f"{name}.conv",
        )(x)
    x = layers.BatchNormalization(
        epsilon=epsilon, momentum=momentum, center=center, scale=scale, name=f"{name}.bn"
    )(x)
    if activation is not None:
        x = layers.Activation(activation, name=f"{name}.act")(x)
    return x


def sepconv_bn(
    x: keras.KerasTensor,
    filters: int,
    kernel_size: int | tuple[int, int],
    strides: int | tuple[int, int] = 1,
    padding: str | tuple[tuple[int, int], tuple[int, int]] = "valid",
    dilation_rate: int | tuple[int, int] = 1,
    depth_multiplier: int = 1,
    use_bias: bool = False,
    epsilon: float = 1e-3,
    momentum: float = 0.99,
    scale: bool = True,
    center: bool = True,
    activation: str | None = None,
    name: str = "sepconv_bn",
) -> keras.KerasTensor:
    """SeparableConv2D, BatchNormalization, then an optional Activation (as conv_bn)."""
    if not isinstance(padding, str):
        x = layers.ZeroPadding2D(padding, name=f"{name}.pad")(x)
        padding = "valid"
    x = layers.SeparableConv2D(
        filters,
        kernel_size,
        strides,
        padding,
        dilation_rate=dilation_rate,
        depth_multiplier=depth_multiplier,
        use_bias=use_bias,
        name=f"{name}.conv",
    )(x)
    x = layers.BatchNormalization(
        epsilon=epsilon, momentum=momentum, center=center, scale=scale, name=f"{name}.bn"
    )(x)
    if activation is not None:
        x = layers.Activation(activation, name=f"{name}.act")(x)
    return x


@keras.saving.register_keras_serializable(package="inceptdsl")
class Scale(layers.Layer):
    """Multiply by a constant: the residual scaling of Inception-ResNet.

    `Add()([x, Scale(s)(up)])` is keras.applications' `CustomScaleLayer(s)([x, up])`.
    """

    def __init__(self, factor: float, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.factor = float(factor)

    def call(self, x: keras.KerasTensor) -> keras.KerasTensor:
        return x * self.factor

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="inceptdsl")
class LocalResponseNorm(layers.Layer):
    """torch's LocalResponseNorm: x / (k + alpha * mean of x^2 over `size` channels) ** beta.

    The window spans size // 2 channels before and (size - 1) // 2 after, zero beyond the
    edges, and the mean always divides by `size` (tf.nn.local_response_normalization sums
    instead and only has odd, symmetric windows).
    """

    def __init__(
        self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0, **kwargs: object
    ) -> None:
        super().__init__(**kwargs)
        self.size, self.alpha, self.beta, self.k = int(size), float(alpha), float(beta), float(k)

    def call(self, x: keras.KerasTensor) -> keras.KerasTensor:
        channels = x.shape[-1]
        pad = [[0, 0], [0, 0], [0, 0], [self.size // 2, (self.size - 1) // 2]]
        squares = keras.ops.pad(keras.ops.square(x), pad)
        total = squares[..., 0:channels]
        for i in range(1, self.size):
            total = total + squares[..., i : i + channels]
        return x / keras.ops.power(total / self.size * self.alpha + self.k, self.beta)

    def get_config(self) -> dict:
        config = {"size": self.size, "alpha": self.alpha, "beta": self.beta, "k": self.k}
        return {**super().get_config(), **config}


@keras.saving.register_keras_serializable(package="inceptdsl")
class PaddedMaxPooling2D(layers.Layer):
    """Max pooling after explicit padding ((top, bottom), (left, right)) with copies of the
    border rows and columns.

    For the pads Keras' `same` cannot express: torch-style symmetric pads with stride 2, pads
    larger than `same`'s, and ceil-mode rows. Copying the edge is exact for max pooling (torch
    keeps pads <= kernel / 2 and starts every ceil-mode window inside the input, so a window
    that holds a copied cell holds its original) and, unlike -inf, keeps every value finite for
    int8 calibration (TFLite). Concatenated slices: keras.ops.pad has no edge mode everywhere.
    """

    def __init__(
        self,
        pool_size: tuple[int, int],
        strides: tuple[int, int],
        padding: tuple[tuple[int, int], tuple[int, int]],
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)
        self.pool_size = tuple(pool_size)
        self.strides = tuple(strides)
        self.padding = tuple(tuple(p) for p in padding)

    @staticmethod
    def _edge(x: keras.KerasTensor, before: int, after: int, axis: int) -> keras.KerasTensor:
        """`x` with its first slice along `axis` repeated `before` times in front of it and its
        last one `after` times behind it."""
        lead = (slice(None),) * axis
        first, last = x[lead + (slice(0, 1),)], x[lead + (slice(-1, None),)]
        parts = [first] * before + [x] + [last] * after
        return keras.ops.concatenate(parts, axis=axis) if len(parts) > 1 else x

    def call(self, x: keras.KerasTensor) -> keras.KerasTensor:
        (top, bottom), (left, right) = self.padding
        x = self._edge(x, top, bottom, axis=1)
        x = self._edge(x, left, right, axis=2)
        return keras.ops.max_pool(x, self.pool_size, self.strides, "valid")

    def get_config(self) -> dict:
        config = {"pool_size": self.pool_size, "strides": self.strides, "padding": self.padding}
        return {**super().get_config(), **config}


@keras.saving.register_keras_serializable(package="inceptdsl")
class PaddedAveragePooling2D(layers.Layer):
    """Average pooling after explicit zero padding, dividing by the positions that count.

    `padding` is ((top, bottom), (left, right)); `counted` is the part of it that counts in
    the divisor (all of the spec's padding for torch's count_include_pad, none without it).
    Since shapes are static, the divisor of each window is a constant computed once.
    """

    def __init__(
        self,
        pool_size: tuple[int, int],
        strides: tuple[int, int],
        padding: tuple[tuple[int, int], tuple[int, int]],
        counted: tuple[tuple[int, int], tuple[int, int]],
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)
        self.pool_size = tuple(pool_size)
        self.strides = tuple(strides)
        self.padding = tuple(tuple(p) for p in padding)
        self.counted = tuple(tuple(p) for p in counted)

    @staticmethod
    def _counts(size: int, kernel: int, stride: int, pad: tuple, counted: tuple) -> list:
        """Counted positions of each window along one axis: the window [start, start + kernel)
        clipped to the input plus its counted padding, [-counted[0], size + counted[1])."""
        windows = (size + pad[0] + pad[1] - kernel) // stride + 1
        starts = [i * stride - pad[0] for i in range(windows)]
        return [min(s + kernel, size + counted[1]) - max(s, -counted[0]) for s in starts]

    def call(self, x: keras.KerasTensor) -> keras.KerasTensor:
        (top, bottom), (left, right) = self.padding
        kh, kw = self.pool_size
        rows = self._counts(x.shape[1], kh, self.strides[0], self.padding[0], self.counted[0])
        cols = self._counts(x.shape[2], kw, self.strides[1], self.padding[1], self.counted[1])
        factor = [[[[kh * kw / (r * c)] for c in cols] for r in rows]]
        pad = [[0, 0], [top, bottom], [left, right], [0, 0]]
        x = keras.ops.average_pool(keras.ops.pad(x, pad), self.pool_size, self.strides, "valid")
        return x * keras.ops.convert_to_tensor(factor, dtype=x.dtype)

    def get_config(self) -> dict:
        config = {
            "pool_size": self.pool_size,
            "strides": self.strides,
            "padding": self.padding,
            "counted": self.counted,
        }
        return {**super().get_config(), **config}


@keras.saving.register_keras_serializable(package="inceptdsl")
class AdaptiveAveragePooling2D(layers.Layer):
    """torch's AdaptiveAvgPool2d: output (i, j) averages rows [floor(i H / oh), ceil((i+1) H /
    oh)) and the columns likewise, so windows may differ in size and overlap (14 -> 4)."""

    def __init__(self, output_size: tuple[int, int], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.output_size = tuple(output_size)

    @staticmethod
    def _weights(size: int, out: int) -> list:
        """The (out, size) matrix that averages each window along one axis."""
        matrix = []
        for i in range(out):
            start, end = i * size // out, -(-(i + 1) * size // out)
            matrix.append([1 / (end - start) if start <= j < end else 0.0 for j in range(size)])
        return matrix

    def call(self, x: keras.KerasTensor) -> keras.KerasTensor:
        rows = keras.ops.convert_to_tensor(self._weights(x.shape[1], self.output_size[0]))
        cols = keras.ops.convert_to_tensor(self._weights(x.shape[2], self.output_size[1]))
        x = keras.ops.einsum("ih,nhwc->niwc", keras.ops.cast(rows, x.dtype), x)
        return keras.ops.einsum("jw,niwc->nijc", keras.ops.cast(cols, x.dtype), x)

    def get_config(self) -> dict:
        return {**super().get_config(), "output_size": self.output_size}


@keras.saving.register_keras_serializable(package="inceptdsl")
class ChannelSlice(layers.Layer):
    """Channels [start, start + size) of the input (the last axis, channels-last)."""

    def __init__(self, start: int, size: int, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.start, self.size = int(start), int(size)

    def call(self, x: keras.KerasTensor) -> keras.KerasTensor:
        return x[..., self.start : self.start + self.size]

    def get_config(self) -> dict:
        return {**super().get_config(), "start": self.start, "size": self.size}


@keras.saving.register_keras_serializable(package="inceptdsl")
class ChannelShuffle(layers.Layer):
    """ShuffleNet's channel shuffle, channels-last: channel g * (C / groups) + j moves to
    j * groups + g, as torchvision's view / transpose / view does in NCHW."""

    def __init__(self, groups: int, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.groups = int(groups)

    def call(self, x: keras.KerasTensor) -> keras.KerasTensor:
        _, h, w, c = x.shape
        x = keras.ops.reshape(x, (-1, h, w, self.groups, c // self.groups))
        x = keras.ops.transpose(x, (0, 1, 2, 4, 3))
        return keras.ops.reshape(x, (-1, h, w, c))

    def get_config(self) -> dict:
        return {**super().get_config(), "groups": self.groups}


@keras.saving.register_keras_serializable(package="inceptdsl")
class LayerScale(layers.Layer):
    """A learnable per-channel multiplier, weight `gamma` initialised to `init` (timm's
    layer scale)."""

    def __init__(self, init: float, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.init = float(init)

    def build(self, input_shape: tuple) -> None:
        self.gamma = self.add_weight(
            name="gamma",
            shape=(input_shape[-1],),
            initializer=keras.initializers.Constant(self.init),
        )

    def call(self, x: keras.KerasTensor) -> keras.KerasTensor:
        return x * self.gamma

    def get_config(self) -> dict:
        return {**super().get_config(), "init": self.init}


@keras.saving.register_keras_serializable(package="inceptdsl")
class DropPath(layers.Layer):
    """Stochastic depth: in training, zero each sample with probability `rate` and divide the
    others by 1 - rate (timm's drop_path); identity at inference."""

    def __init__(self, rate: float, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.seed = keras.random.SeedGenerator(0)

    def call(self, x: keras.KerasTensor, training: bool = False) -> keras.KerasTensor:
        if not training or self.rate == 0.0:
            return x
        keep = 1.0 - self.rate
        shape = (keras.ops.shape(x)[0],) + (1,) * (len(x.shape) - 1)
        mask = keras.ops.cast(keras.random.uniform(shape, seed=self.seed) < keep, x.dtype)
        return x * mask / keep

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate}


HELPERS: tuple[object, ...] = (
    conv_bn,
    sepconv_bn,
    Scale,
    LocalResponseNorm,
    PaddedMaxPooling2D,
    PaddedAveragePooling2D,
    AdaptiveAveragePooling2D,
    ChannelSlice,
    ChannelShuffle,
    LayerScale,
    DropPath,
)
"""Every helper, in the order emitted files define them."""

CUSTOM_OBJECTS: dict[str, type] = {
    f"inceptdsl>{h.__name__}": h  # type: ignore[attr-defined]
    for h in HELPERS
    if isinstance(h, type)
}
"""The registered layers by their Keras name, for `keras.models.load_model(custom_objects=)`."""
