"""Shapes and exact parameter counts of the MNIST and model-zoo networks, and the scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from flowlearn.evaluation.classification import (
    accuracy_metric,
    confusion_matrix,
    name_clusters,
    nmi,
    purity,
)
from flowlearn.models.autoencoder import ConvAutoencoder
from flowlearn.models.cnn import DropConnectLinear, SmallCNN
from flowlearn.models.lenet import C3_TABLE, PAPER_COUNTS, LeNet5
from flowlearn.models.rnn import RowLSTM
from flowlearn.models.vae import VAE, negative_elbo
from flowlearn.models.zoo import (
    AlexNet,
    GoogLeNet,
    count_parameters,
    keras_resnet50_count,
    resnet18,
    resnet50,
)


def test_lenet5_counts_layer_by_layer():
    model = LeNet5()
    counts = {n: count_parameters(getattr(model, n)) for n in PAPER_COUNTS}
    assert counts == PAPER_COUNTS
    assert count_parameters(model) == 60_850
    assert sum(len(t) for t in C3_TABLE) == 60
    assert count_parameters(LeNet5(c3="full")) == 61_750
    assert count_parameters(LeNet5(c3="full", subsampling="max")) == 61_706
    assert model(torch.randn(3, 1, 28, 28)).shape == (3, 10)
    assert model(torch.randn(3, 1, 32, 32)).shape == (3, 10)


def test_lenet5_c3_reads_only_its_table():
    c3 = LeNet5().C3
    x = torch.randn(1, 6, 14, 14)
    y = c3(x)
    x2 = x.clone()
    x2[:, 3] += 1.0  # map 3 is not read by C3 maps 0 and 4 (Table I)
    y2 = c3(x2)
    assert torch.equal(y[:, [0, 4]], y2[:, [0, 4]])
    assert not torch.allclose(y[:, 1], y2[:, 1])


def test_autoencoder_is_the_keras_one():
    model = ConvAutoencoder()
    assert count_parameters(model) == 4_385
    x = torch.rand(2, 1, 28, 28)
    assert model.encode(x).shape == (2, 8, 4, 4)
    out = model(x)
    assert out.shape == x.shape and 0 <= out.min() and out.max() <= 1


def test_classifier_shapes():
    x = torch.randn(4, 1, 28, 28)
    for model in (SmallCNN(width=8, hidden=16), RowLSTM(16), resnet18(10, 1)):
        model.eval()
        assert model(x).shape == (4, 10)
    assert count_parameters(RowLSTM(128)) == 4 * 128 * (28 + 128 + 2) + 1290
    assert count_parameters(resnet18(10, 1)) == 11_175_370


def test_dropconnect_drops_weights_only_in_training():
    layer = DropConnectLinear(20, 5, p=0.5)
    x = torch.randn(3, 20)
    layer.eval()
    torch.testing.assert_close(layer(x), torch.nn.functional.linear(x, layer.weight, layer.bias))
    layer.train()
    torch.manual_seed(0)
    a = layer(x)
    b = layer(x)
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match="p = 1"):
        DropConnectLinear(2, 2, p=1.0)


def test_vae_shapes_and_loss():
    model = VAE()
    x = torch.rand(5, 1, 28, 28)
    logits, mu, logvar = model(x)
    assert logits.shape == x.shape and mu.shape == logvar.shape == (5, 2)
    loss = negative_elbo((logits, mu, logvar), x)
    assert loss.ndim == 0 and loss > 0
    assert model.decode(torch.zeros(3, 2)).shape == (3, 1, 28, 28)


def test_resnet_counts_torchvision_and_keras():
    assert count_parameters(resnet50()) == 25_557_032
    assert count_parameters(resnet18()) == 11_689_512
    k = keras_resnet50_count()
    assert k["conv_biases"] == 26_560 and k["bn_moving_statistics"] == 2 * 26_560
    assert k["keras"] == 25_557_032 + 3 * 26_560 == 25_636_712
    assert k["keras_trainable"] == 25_583_592 and k["keras_non_trainable"] == 53_120


def test_alexnet_and_googlenet_counts_and_shapes():
    alex = AlexNet()
    assert count_parameters(alex) == 61_100_840
    g, ga = GoogLeNet(), GoogLeNet(aux=True)
    assert count_parameters(g) == 6_998_552
    assert count_parameters(ga) == 13_378_280
    assert count_parameters(ga.aux1) == 3_188_840 and count_parameters(ga.aux2) == 3_190_888
    x = torch.randn(2, 3, 64, 64)
    alex.eval()
    g.eval()
    assert alex(x).shape == (2, 1000) and g(x).shape == (2, 1000)
    ga.train()
    outs = ga(x)
    assert len(outs) == 3 and all(o.shape == (2, 1000) for o in outs)


def test_scores():
    truth = np.array([0, 0, 1, 1, 2, 2])
    clusters = np.array([5, 5, 5, 7, 9, 9])
    assert purity(truth, clusters) == pytest.approx(5 / 6)
    assert nmi(truth, truth + 3) == pytest.approx(1.0)
    cm = confusion_matrix(truth, np.array([0, 1, 1, 1, 2, 0]), 3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0]])
    assert accuracy_metric(logits, torch.tensor([0, 0])) == 0.5
    # cluster 1 holds no labelled point: it takes the label of the nearest one
    names = name_clusters(
        np.array([0, 0, 2]),
        np.array([4, 4, 7]),
        centroids=np.array([[0.0], [9.0], [5.0]]),
        labelled_points=np.array([[0.0], [0.1], [8.0]]),
    )
    assert names.tolist() == [4, 7, 7]
