import pytest
from django.core.management import call_command

from orders.models import Membership, Order, Shop


def run_create_order(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        call_command("create_order", *args)
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def test_seed_demo_is_idempotent(db: None, capsys: pytest.CaptureFixture) -> None:
    call_command("seed_demo")
    first = capsys.readouterr().out
    call_command("seed_demo")
    second = capsys.readouterr().out
    shop = Shop.objects.get(slug="demo")
    assert Order.objects.filter(shop=shop).count() == 3
    assert shop.workflows.count() == 6
    assert Membership.objects.filter(shop=shop, user__username="demo").count() == 1
    assert first == second  # same links both times
    assert "/staff/login/" in first and first.count("/t/") == 3


def test_seed_demo_orders_are_at_different_stages(db: None) -> None:
    call_command("seed_demo")
    positions = set(Order.objects.values_list("stage__position", flat=True))
    assert len(positions) >= 2


def test_create_order_prints_the_tracking_url_last(
    shop: Shop, capsys: pytest.CaptureFixture, settings
) -> None:
    settings.TRACKER_PUBLIC_URL = "https://track.example.com"
    code, out, _ = run_create_order(
        capsys, "--shop", "pizzeria", "--number", "77", "--customer", "Ivan", "--workflow", "cafe"
    )
    order = Order.objects.get(shop=shop, number="77")
    assert code == 0
    assert out.strip().splitlines()[-1] == f"https://track.example.com/t/{order.token}/"
    assert order.workflow.key == "cafe"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shop", "nope", "--number", "1", "--customer", "X"], "no shop"),
        (
            ["--shop", "pizzeria", "--number", "1", "--customer", "X", "--workflow", "zzz"],
            "workflow",
        ),
        (["--shop", "pizzeria", "--customer", "X"], "required"),
        (["--shop", "pizzeria", "--number", "1", "--customer", "X", "--email", "bad"], "e-mail"),
        (["--shop", "pizzeria", "--number", "1" * 41, "--customer", "X"], "longer than"),
        (["--shop", "pizzeria", "--number", " ", "--customer", "X"], "needs a number"),
    ],
)
def test_create_order_bad_arguments_exit_2_with_one_line(
    shop: Shop, capsys: pytest.CaptureFixture, args: list, message: str
) -> None:
    code, _out, err = run_create_order(capsys, *args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err
    assert not Order.objects.exists()


def test_create_order_refuses_a_duplicate_number(
    order: Order, capsys: pytest.CaptureFixture
) -> None:
    code, _, err = run_create_order(
        capsys, "--shop", "pizzeria", "--number", "1042", "--customer", "X"
    )
    assert code == 2 and "already exists" in err
