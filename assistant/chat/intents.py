"""The customer-service intents: the 77 of Banking77 (Casanueva et al., 2020, CC BY 4.0).

The names are Banking77's own, spelling included, so that its files train and evaluate the
intent model unchanged.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings

from assistant.training.data import examples_read
from assistant.training.registry import Example, TaskSpec

logger = logging.getLogger("finassist.chat")

INTENTS = (
    "card_arrival",
    "card_linking",
    "exchange_rate",
    "card_payment_wrong_exchange_rate",
    "extra_charge_on_statement",
    "pending_cash_withdrawal",
    "fiat_currency_support",
    "card_delivery_estimate",
    "automatic_top_up",
    "card_not_working",
    "exchange_via_app",
    "lost_or_stolen_card",
    "age_limit",
    "pin_blocked",
    "contactless_not_working",
    "top_up_by_bank_transfer_charge",
    "pending_top_up",
    "cancel_transfer",
    "top_up_limits",
    "wrong_amount_of_cash_received",
    "card_payment_fee_charged",
    "transfer_not_received_by_recipient",
    "supported_cards_and_currencies",
    "getting_virtual_card",
    "card_acceptance",
    "top_up_reverted",
    "balance_not_updated_after_cheque_or_cash_deposit",
    "card_payment_not_recognised",
    "edit_personal_details",
    "why_verify_identity",
    "unable_to_verify_identity",
    "get_physical_card",
    "visa_or_mastercard",
    "topping_up_by_card",
    "disposable_card_limits",
    "compromised_card",
    "atm_support",
    "direct_debit_payment_not_recognised",
    "passcode_forgotten",
    "declined_cash_withdrawal",
    "pending_card_payment",
    "lost_or_stolen_phone",
    "request_refund",
    "declined_transfer",
    "Refund_not_showing_up",
    "declined_card_payment",
    "pending_transfer",
    "terminate_account",
    "card_swallowed",
    "transaction_charged_twice",
    "verify_source_of_funds",
    "transfer_timing",
    "reverted_card_payment?",
    "change_pin",
    "beneficiary_not_allowed",
    "transfer_fee_charged",
    "receiving_money",
    "failed_transfer",
    "transfer_into_account",
    "verify_top_up",
    "getting_spare_card",
    "top_up_by_cash_or_cheque",
    "order_physical_card",
    "virtual_card_not_working",
    "wrong_exchange_rate_for_cash_withdrawal",
    "get_disposable_virtual_card",
    "top_up_failed",
    "balance_not_updated_after_bank_transfer",
    "cash_withdrawal_not_recognised",
    "exchange_charge",
    "top_up_by_card_charge",
    "activate_my_card",
    "cash_withdrawal_charge",
    "card_about_to_expire",
    "apple_pay_or_google_pay",
    "verify_my_identity",
    "country_support",
)


SAMPLE = Path(__file__).resolve().parent / "data" / "intents-sample.csv"


def banking77_examples() -> list[Example]:
    """Banking77's train.csv from the datasets folder; without it, the project's own small sample.

    The sample (four messages per intent, written for this project) lets a machine without
    the datasets train a working router; its accuracy is far below Banking77's.
    """
    path = settings.DATASETS_DIR / "banking77" / "train.csv"
    if not path.is_file():
        logger.warning(
            "no Banking77 at %s: chat-intent trains on the project's sample of %s", path, SAMPLE.name
        )
        path = SAMPLE
    return examples_read(path, text_column="text", label_column="category", labels=INTENTS)


# Intents that need the customer's own account: a person takes over, after a scripted reply.
HANDOFF = {
    "card_arrival": "I'm sorry your card hasn't arrived yet.",
    "pending_cash_withdrawal": "A pending cash withdrawal needs a look at your account.",
    "card_not_working": "I'm sorry your card isn't working.",
    "lost_or_stolen_card": "I'm sorry about your card. If you can, freeze it now in the app.",
    "pin_blocked": "A blocked PIN has to be reset on your account.",
    "pending_top_up": "A pending top-up needs a look at your account.",
    "wrong_amount_of_cash_received": "I'm sorry the machine gave you the wrong amount.",
    "transfer_not_received_by_recipient": "A transfer that has not arrived needs a look at your account.",
    "top_up_reverted": "A reverted top-up needs a look at your account.",
    "balance_not_updated_after_cheque_or_cash_deposit": "A deposit missing from your balance needs a look.",
    "card_payment_not_recognised": "A payment you don't recognise may be fraud: freeze your card in the app.",
    "unable_to_verify_identity": "I'm sorry the identity check isn't working for you.",
    "compromised_card": "If your card details may have been stolen, freeze the card now in the app.",
    "direct_debit_payment_not_recognised": "A direct debit you don't recognise needs a look at your account.",
    "declined_cash_withdrawal": "A declined withdrawal needs a look at your account.",
    "pending_card_payment": "A pending card payment needs a look at your account.",
    "lost_or_stolen_phone": "I'm sorry about your phone. If you can, log out of the app from another device.",
    "declined_transfer": "A declined transfer needs a look at your account.",
    "Refund_not_showing_up": "A missing refund needs a look at your account.",
    "declined_card_payment": "A declined card payment needs a look at your account.",
    "pending_transfer": "A pending transfer needs a look at your account.",
    "terminate_account": "Closing an account is done by a person, to make sure nothing is left behind.",
    "card_swallowed": "I'm sorry the machine kept your card.",
    "transaction_charged_twice": "A double charge needs a look at your account.",
    "reverted_card_payment?": "A reverted card payment needs a look at your account.",
    "failed_transfer": "A failed transfer needs a look at your account.",
    "top_up_failed": "A failed top-up needs a look at your account.",
    "balance_not_updated_after_bank_transfer": "A transfer missing from your balance needs a look.",
    "cash_withdrawal_not_recognised": "A withdrawal you don't recognise may be fraud: freeze your card.",
}
HANDOFF_CLOSING = " I've passed our conversation to a colleague, who will reply here as soon as possible."


def intent_label(intent: str) -> str:
    """A customer-facing name: `card_arrival` -> "Card arrival"."""
    return intent.rstrip("?").replace("_", " ").capitalize()


CHAT_INTENT = TaskSpec(
    name="chat-intent",
    labels=INTENTS,
    examples=banking77_examples,
    description="Intent of a customer's chat message (Banking77's 77 online-banking intents).",
    label_column="category",
)
