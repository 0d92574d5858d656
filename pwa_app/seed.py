"""Demo data: the fictional town hall of Villanueva del Pinar (Comunidad de Madrid).

The content is kept as plain data below; the code at the end only inserts it. Every content item carries
one sub-dict per extra language (`"en": {...}`) with the translated texts of its translatable fields, so
adding a language means adding its code to LANGUAGES and a sub-dict to each item — no code changes.
Seeding refuses (raises) if an item lacks a translation of one of its non-empty translatable fields.

Run `python -m pwa_app.seed` to create the tables on $DATABASE_URL (default sqlite:///cita.db) and seed it.
"""

import sys
from datetime import date, time
from functools import cache
from pathlib import Path
from urllib.parse import quote_plus

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from sqlmodel import Session, select

from pwa_app import db
from pwa_app.catalogue.content import TRANSLATABLE
from pwa_app.models import (
    Area, Closure, ContentTranslation, Department, Municipality, Office, Procedure, ProcedureOffice, RequestType,
    Requirement, Schedule,
)

INLINE_LANGUAGES = ("en",)  # each item has a sub-dict per code
# The other content languages come from gettext catalogues, one per language, keyed by the Spanish text with the
# table and field as context (`python -m pwa_app.seed pot` writes the template): what a translation agency edits.
CONTENT_PO = Path(__file__).resolve().parents[1] / "locales" / "content"
PO_LANGUAGES = tuple(sorted(p.stem for p in CONTENT_PO.glob("*.po")))
LANGUAGES = INLINE_LANGUAGES + PO_LANGUAGES

SEDE = "https://sede.villanuevadelpinar.es"

MUNICIPALITY = {
    "name": "Villanueva del Pinar",
    "timezone": "Europe/Madrid",
    "region": "MD",
    "phone": "918 45 20 00",
    "website": "https://www.villanuevadelpinar.es",
}

AREAS = [
    {"slug": "padron", "name": "Padrón municipal", "en": {"name": "Municipal register (padrón)"}},
    {"slug": "registro", "name": "Registro General", "en": {"name": "General registry office"}},
    {"slug": "tributos", "name": "Impuestos y tasas", "en": {"name": "Local taxes and fees"}},
    {"slug": "urbanismo", "name": "Urbanismo y obras", "en": {"name": "Planning and building works"}},
    {"slug": "movilidad", "name": "Movilidad y vía pública", "en": {"name": "Parking, traffic and street use"}},
    {"slug": "servicios-sociales", "name": "Servicios sociales", "en": {"name": "Social services"}},
    {"slug": "registro-civil", "name": "Registro Civil y bodas", "en": {"name": "Civil registry and weddings"}},
    {"slug": "otros", "name": "Otros trámites", "en": {"name": "Other services"}},
]

WEEKDAYS = (0, 1, 2, 3, 4)
OAC, NORTE, CSSU = "oac-casa-consistorial", "junta-distrito-norte", "centro-servicios-sociales-urbanismo"

# "hours": (weekdays, opens, closes) in local wall time; schedules are generated from them.
OFFICES = [
    {
        "slug": OAC,
        "name": "Oficina de Atención a la Ciudadanía (OAC) – Casa Consistorial",
        "address": "Plaza Mayor, 1, 28749 Villanueva del Pinar (Madrid)",
        "phone": "918 45 20 00",
        "opening_hours": "Lunes a viernes, 9:00–14:00. Jueves, también de 16:00 a 18:30.",
        "accessibility": "Entrada sin escalones por la Plaza Mayor, ascensor a todas las plantas, bucle magnético "
        "en los puestos de atención y aseo adaptado en la planta baja.",
        "hours": [(WEEKDAYS, time(9, 0), time(14, 0)), ((3,), time(16, 0), time(18, 30))],
        "en": {
            "name": "Citizen Service Office (OAC) – Town Hall",
            "opening_hours": "Monday to Friday, 9:00–14:00. Thursdays also 16:00–18:30.",
            "accessibility": "Step-free entrance from Plaza Mayor, lift to every floor, hearing loop at the "
            "service desks and an accessible toilet on the ground floor.",
        },
    },
    {
        "slug": NORTE,
        "name": "Junta Municipal de Distrito Norte",
        "address": "Avenida de la Constitución, 48, 28749 Villanueva del Pinar (Madrid)",
        "phone": "918 45 21 50",
        "opening_hours": "Lunes a viernes, 8:30–14:30.",
        "accessibility": "Rampa en la entrada principal, todos los puestos de atención en planta baja, aseo adaptado "
        "y dos plazas de aparcamiento reservadas frente al edificio.",
        "hours": [(WEEKDAYS, time(8, 30), time(14, 30))],
        "en": {
            "name": "North District Municipal Office",
            "opening_hours": "Monday to Friday, 8:30–14:30.",
            "accessibility": "Ramp at the main entrance, all service desks on the ground floor, an accessible "
            "toilet and two reserved parking spaces in front of the building.",
        },
    },
    {
        "slug": CSSU,
        "name": "Centro Municipal de Servicios Sociales y Urbanismo",
        "address": "Calle del Molino, 12, 28749 Villanueva del Pinar (Madrid)",
        "phone": "918 45 22 30",
        "opening_hours": "Lunes a jueves, 9:00–13:30. Urgencias sociales: llame al 918 45 22 30.",
        "accessibility": "Acceso a nivel desde la calle, ascensor a la primera planta (Urbanismo), bucle magnético "
        "en recepción, aseo adaptado y despachos individuales para una atención confidencial.",
        "hours": [((0, 1, 2, 3), time(9, 0), time(13, 30))],
        "en": {
            "name": "Social Services and Planning Centre",
            "opening_hours": "Monday to Thursday, 9:00–13:30. Social emergencies: call 918 45 22 30.",
            "accessibility": "Level access from the street, lift to the first floor (Planning), hearing loop at "
            "reception, an accessible toilet and private rooms for confidential interviews.",
        },
    },
]

# Requirements that many procedures share.
ID_DOCUMENT = {
    "text": "DNI, NIE o pasaporte original en vigor",
    "note": "Las personas extranjeras pueden presentar la tarjeta de residencia o el pasaporte. No se admiten "
    "fotocopias.",
    "en": {
        "text": "Original, valid DNI, NIE or passport",
        "note": "Foreign nationals may show their residence card or passport. Photocopies are not accepted.",
    },
}
REPRESENTATION = {
    "text": "Autorización firmada y copia del documento de identidad de la persona representada",
    "note": "Solo si hace el trámite en nombre de otra persona.",
    "optional": True,
    "en": {
        "text": "Signed authorisation and a copy of the identity document of the person you represent",
        "note": "Only if you are acting on someone else's behalf.",
    },
}
FEE_RECEIPT = {
    "text": "Justificante de pago de la tasa",
    "note": "Puede pagar con tarjeta en la oficina o con la carta de pago que genera la sede electrónica.",
    "en": {
        "text": "Proof of payment of the fee",
        "note": "You can pay by card at the office or with the payment slip issued by the online office (sede "
        "electrónica).",
    },
}
PADRON_FORM = {
    "text": "Hoja padronal firmada por todas las personas mayores de edad que se inscriben",
    "note": "Puede descargarla en la sede electrónica o rellenarla en la oficina.",
    "en": {
        "text": "Register form (hoja padronal) signed by every adult being registered",
        "note": "You can download it from the online office or fill it in at the desk.",
    },
}
HOUSING_PROOF = {
    "text": "Documento que acredite el uso de la vivienda",
    "note": "Escritura o nota simple del Registro de la Propiedad, contrato de alquiler en vigor o factura reciente "
    "de luz, agua o gas a su nombre.",
    "en": {
        "text": "Proof that you live in the home",
        "note": "Title deed or Land Registry extract, a current rental contract, or a recent electricity, water or gas "
        "bill in your name.",
    },
}
OWNER_CONSENT = {
    "text": "Autorización firmada por la persona titular de la vivienda y copia de su DNI",
    "note": "Solo si usted no es propietario ni inquilino, por ejemplo si vive en casa de un familiar.",
    "optional": True,
    "en": {
        "text": "Authorisation signed by the owner or tenant of the home and a copy of their DNI",
        "note": "Only if you neither own nor rent the home, for example if you live with a relative.",
    },
}
IBI_RECEIPT = {
    "text": "Último recibo del IBI o referencia catastral del inmueble",
    "note": "Nos ayuda a localizar su recibo.",
    "optional": True,
    "en": {
        "text": "Latest IBI bill or the property's cadastral reference",
        "note": "It helps us find your bill.",
    },
}
WORKS_BUDGET = {
    "text": "Presupuesto detallado de la obra, firmado por la empresa o el contratista",
    "note": "Con mediciones y precios por partidas.",
    "en": {
        "text": "Detailed quote for the works, signed by the builder or contractor",
        "note": "With quantities and prices for each item.",
    },
}
WORKS_FEE_RECEIPT = {
    "text": "Justificante de pago de la tasa y del ICIO",
    "note": "Puede hacer la autoliquidación en la sede electrónica o en la propia cita.",
    "en": {
        "text": "Proof of payment of the fee and the construction tax (ICIO)",
        "note": "You can fill in the self-assessment online or during your appointment.",
    },
}
OWNER_WORKS_CONSENT = {
    "text": "Autorización de la propiedad o de la comunidad de propietarios",
    "note": "Si usted es inquilino o la obra afecta a elementos comunes.",
    "optional": True,
    "en": {
        "text": "Consent of the owner or the owners' association",
        "note": "If you are a tenant or the works affect communal parts of the building.",
    },
}
WORKS_FEE = "Tasa: 1 % del presupuesto (mín. 30,00 €) + ICIO 4 %"
WORKS_FEE_EN = "Fee: 1% of the budget (min. €30.00) + 4% construction tax (ICIO)"

# "offices": office slug -> desks attending the procedure (Schedule.capacity); slot length = duration_minutes.
# "weekdays" (optional) restricts the appointment days; by default every day the office opens.
PROCEDURES = [
    {
        "slug": "alta-padron",
        "area": "padron",
        "offices": {OAC: 3, NORTE: 2},
        "name": "Alta en el padrón (empadronamiento)",
        "summary": "Inscríbase en el padrón si viene a vivir a Villanueva del Pinar desde otro municipio o desde el "
        "extranjero.",
        "description": "El padrón es el registro de las personas que viven en el municipio y es obligatorio "
        "inscribirse "
        "en él. Estar empadronado le da acceso al centro de salud, a la escolarización de sus hijos y a las ayudas "
        "municipales. El alta se tramita en el momento y se le entrega un volante que la acredita. Si se empadrona "
        "toda la familia, basta con que acuda una persona mayor de edad con la documentación de todos.",
        "who_can_apply": "Cualquier persona que pase a residir en Villanueva del Pinar, sea cual sea su nacionalidad. "
        "Los menores se empadronan con su padre, madre o tutor legal.",
        "fee": "Gratuito",
        "duration_minutes": 20,
        "online_url": f"{SEDE}/padron/alta",
        "keywords": "empadronarme, empadronamiento, padrón, alta, mudanza, nuevo vecino, vivir, domicilio",
        "requirements": [
            PADRON_FORM,
            {
                "text": "Documento de identidad original en vigor de cada persona que se empadrona",
                "note": "DNI para personas españolas; NIE, tarjeta de residencia o pasaporte para personas "
                "extranjeras. "
                "Los menores de 14 años sin DNI pueden presentar el libro de familia.",
                "en": {
                    "text": "Original, valid identity document of everyone being registered",
                    "note": "DNI for Spanish nationals; NIE, residence card or passport for foreign nationals. "
                    "Children under 14 without a DNI may be shown in the family book (libro de familia).",
                },
            },
            HOUSING_PROOF,
            OWNER_CONSENT,
            {
                "text": "Libro de familia o certificado de nacimiento de los menores",
                "note": "Para empadronar a menores de edad.",
                "optional": True,
                "en": {
                    "text": "Family book or birth certificate of any children",
                    "note": "To register minors.",
                },
            },
            {
                "text": "Resolución judicial sobre la guarda y custodia",
                "note": "Si los progenitores están separados o divorciados y el menor se empadrona con uno de ellos.",
                "optional": True,
                "en": {
                    "text": "Court ruling on custody",
                    "note": "If the parents are separated or divorced and the child is registered with one of them.",
                },
            },
        ],
        "en": {
            "name": "Registering on the padrón (empadronamiento)",
            "summary": "Register on the padrón if you are moving to Villanueva del Pinar from another town or from "
            "abroad.",
            "description": "The padrón is the register of everyone who lives in the town, and registering is "
            "compulsory. Being registered gives you access to the health centre, school places for your children and "
            "municipal benefits. Registration is done on the spot and you receive a certificate (volante) as proof. "
            "If the whole family is registering, one adult can come with everyone's documents.",
            "who_can_apply": "Anyone who comes to live in Villanueva del Pinar, whatever their nationality. Children "
            "are registered with their father, mother or legal guardian.",
            "fee": "Free",
            "keywords": "register, registration, padron, empadronamiento, moving, new resident, address, census",
        },
    },
    {
        "slug": "cambio-domicilio-padron",
        "area": "padron",
        "offices": {OAC: 3, NORTE: 2},
        "name": "Cambio de domicilio en el padrón",
        "summary": "Actualice su dirección en el padrón si se muda a otra vivienda dentro de Villanueva del Pinar.",
        "description": "Si cambia de vivienda sin salir del municipio, debe comunicarlo para que su domicilio en el "
        "padrón sea el correcto. El cambio se traslada al censo electoral y a los servicios municipales, pero no a "
        "otras administraciones: recuerde actualizar también su DNI, la Seguridad Social y la Agencia Tributaria. "
        "Si se va a vivir a otro municipio no tiene que darse de baja aquí: la baja se hace sola cuando se empadrona "
        "en el nuevo.",
        "who_can_apply": "Personas empadronadas en Villanueva del Pinar que se mudan dentro del municipio.",
        "fee": "Gratuito",
        "duration_minutes": 15,
        "online_url": f"{SEDE}/padron/cambio-domicilio",
        "keywords": "cambio de domicilio, mudanza, nueva dirección, cambiar dirección, padrón, empadronamiento, piso",
        "requirements": [PADRON_FORM, ID_DOCUMENT, HOUSING_PROOF, OWNER_CONSENT, REPRESENTATION],
        "en": {
            "name": "Change of address on the padrón",
            "summary": "Update your address on the padrón if you move to another home within Villanueva del Pinar.",
            "description": "If you move home without leaving the town, you must tell us so that your address on the "
            "padrón is correct. The change is passed on to the electoral roll and to municipal services, but not to "
            "other administrations: remember to update your DNI, Social Security and the Tax Agency as well. If you "
            "move to another town you do not need to deregister here: it happens automatically when you register "
            "in the new one.",
            "who_can_apply": "People registered in Villanueva del Pinar who move within the town.",
            "fee": "Free",
            "keywords": "change of address, moving house, new address, update address, padron, flat",
        },
    },
    {
        "slug": "volante-empadronamiento",
        "area": "padron",
        "offices": {OAC: 1, NORTE: 1},
        "name": "Volante de empadronamiento",
        "summary": "Obtenga al momento el documento que acredita dónde está empadronado, por internet o en persona sin "
        "cita.",
        "description": "El volante de empadronamiento indica su domicilio en el padrón y las personas que viven con "
        "usted; se pide, por ejemplo, para el colegio, el centro de salud o el abono transporte. Con certificado "
        "digital o Cl@ve puede descargarlo al instante en la sede electrónica. También puede recogerlo sin cita en "
        "el mostrador de información de la OAC o de la Junta de Distrito Norte.",
        "who_can_apply": "La persona empadronada o cualquier persona mayor de edad empadronada en el mismo domicilio. "
        "Otra persona puede recogerlo con autorización.",
        "fee": "Gratuito",
        "duration_minutes": 10,
        "needs_appointment": False,
        "requires_document": False,
        "online_url": f"{SEDE}/padron/volante",
        "keywords": "volante, empadronamiento, justificante de domicilio, padrón, colegio, abono transporte, "
        "convivencia",
        "requirements": [
            ID_DOCUMENT,
            {
                "text": "Certificado digital o Cl@ve",
                "note": "Solo si lo solicita por internet.",
                "optional": True,
                "en": {"text": "Digital certificate or Cl@ve", "note": "Only if you request it online."},
            },
            REPRESENTATION,
        ],
        "en": {
            "name": "Proof of registration (volante de empadronamiento)",
            "summary": "Get the document showing where you are registered instantly, online or in person without an "
            "appointment.",
            "description": "The volante shows your registered address and the people who live with you; it is asked "
            "for by schools, the health centre or for the public transport pass, among others. With a digital "
            "certificate or Cl@ve you can download it instantly from the online office. You can also pick it up "
            "without an appointment at the information desk of the OAC or the North District Office.",
            "who_can_apply": "The registered person or any adult registered at the same address. Someone else can "
            "collect it with an authorisation.",
            "fee": "Free",
            "keywords": "proof of address, volante, registration certificate, padron, school, transport pass",
        },
    },
    {
        "slug": "certificado-empadronamiento",
        "area": "padron",
        "offices": {OAC: 1, NORTE: 1},
        "name": "Certificado de empadronamiento (individual, colectivo o histórico)",
        "summary": "Solicite el certificado oficial de empadronamiento cuando se lo exija otra administración, un "
        "consulado o un juzgado.",
        "description": "El certificado de empadronamiento es un documento público firmado por la Secretaría del "
        "Ayuntamiento. Se pide, por ejemplo, para la nacionalidad española, la reagrupación familiar o una pensión. "
        "Puede ser individual, colectivo (todas las personas de la vivienda) o histórico (todos los domicilios en los "
        "que ha estado empadronado). Si no necesita un documento oficial, el volante es más rápido y no requiere cita.",
        "who_can_apply": "La persona empadronada, o un tercero con su autorización. Los certificados de menores los "
        "solicita su padre, madre o tutor legal.",
        "fee": "Tasa: 3,10 €",
        "duration_minutes": 15,
        "keywords": "certificado, empadronamiento, histórico, colectivo, nacionalidad, reagrupación familiar, padrón, "
        "oficial",
        "requirements": [
            ID_DOCUMENT,
            {
                "text": "Saber qué tipo de certificado necesita",
                "note": "Individual, colectivo o histórico. Para la nacionalidad o la reagrupación familiar suele "
                "pedirse el histórico: compruébelo antes de su cita.",
                "en": {
                    "text": "Know which type of certificate you need",
                    "note": "Individual, household or historical. Nationality and family reunification applications "
                    "usually require the historical one: please check before your appointment.",
                },
            },
            FEE_RECEIPT,
            REPRESENTATION,
        ],
        "en": {
            "name": "Registration certificate (individual, household or historical)",
            "summary": "Request the official registration certificate when another administration, a consulate or a "
            "court asks for it.",
            "description": "The registration certificate is a public document signed by the Town Hall Secretary. It is "
            "required, for example, for Spanish nationality, family reunification or a pension. It can be "
            "individual, for the whole household, or historical (every address where you have been registered). If "
            "you do not need an official document, the volante is quicker and needs no appointment.",
            "who_can_apply": "The registered person, or someone else with their authorisation. Parents or legal "
            "guardians request certificates for minors.",
            "fee": "Fee: €3.10",
            "keywords": "certificate, registration, historical, household, nationality, family reunification, official",
        },
    },
    {
        "slug": "registro-general",
        "area": "registro",
        "offices": {OAC: 2, NORTE: 2, CSSU: 1},
        "name": "Presentación de documentos en el Registro (instancia general)",
        "summary": "Presente solicitudes, escritos y reclamaciones dirigidos al Ayuntamiento o a otras "
        "administraciones públicas.",
        "description": "En el Registro puede presentar cualquier solicitud, escrito o reclamación dirigido al "
        "Ayuntamiento; si no hay un formulario específico para su trámite, utilice la instancia general. También "
        "recogemos documentos dirigidos a la Comunidad de Madrid o a la Administración General del Estado, que "
        "enviamos por vía electrónica. Digitalizamos sus documentos, le devolvemos los originales y le entregamos un "
        "justificante con la fecha y hora de entrada.",
        "who_can_apply": "Cualquier persona física. Las empresas, asociaciones y demás personas jurídicas, así como "
        "los "
        "profesionales colegiados en el ejercicio de su actividad, deben presentar sus escritos en la sede "
        "electrónica.",
        "fee": "Gratuito",
        "duration_minutes": 10,
        "online_url": f"{SEDE}/registro/instancia-general",
        "keywords": "registro, instancia general, solicitud, escrito, reclamación, queja, presentar documentos, sello "
        "de entrada",
        "requirements": [
            ID_DOCUMENT,
            {
                "text": "Instancia general o formulario específico del trámite, cumplimentado y firmado",
                "note": "Disponibles en la sede electrónica y en la propia oficina.",
                "en": {
                    "text": "General application form or the specific form for your procedure, filled in and signed",
                    "note": "Available from the online office and at the desk.",
                },
            },
            {
                "text": "Documentación que quiera aportar, original o copia",
                "note": "Traiga cada documento por separado y, si es posible, sin grapar.",
                "en": {
                    "text": "Any documents you want to submit, originals or copies",
                    "note": "Please bring each document separately and, if possible, without staples.",
                },
            },
            REPRESENTATION,
        ],
        "en": {
            "name": "Submitting documents at the Registry (general application)",
            "summary": "Submit applications, letters and complaints addressed to the Town Hall or to other public "
            "administrations.",
            "description": "At the Registry you can submit any application, letter or complaint addressed to the Town "
            "Hall; if there is no specific form for your procedure, use the general application form. We also accept "
            "documents addressed to the Community of Madrid or the Spanish State administration and send them "
            "electronically. We scan your documents, return the originals and give you a receipt showing the date "
            "and time of entry.",
            "who_can_apply": "Any individual. Companies, associations and other legal entities, as well as registered "
            "professionals acting in their professional capacity, must submit documents through the online office.",
            "fee": "Free",
            "keywords": "registry, general application, request, letter, complaint, submit documents, entry stamp",
        },
    },
    {
        "slug": "ibi-domiciliacion-fraccionamiento",
        "area": "tributos",
        "offices": {OAC: 2},
        "name": "IBI: domiciliación y pago en plazos",
        "summary": "Domicilie el recibo del Impuesto sobre Bienes Inmuebles (IBI) y, si lo desea, páguelo en cuatro "
        "plazos sin intereses.",
        "description": "El IBI es el impuesto anual que pagan las personas propietarias de viviendas, locales y "
        "terrenos. Si lo domicilia, el recibo se cargará en su cuenta en la fecha de cobro sin que tenga que estar "
        "pendiente de los plazos. Con el sistema especial de pago puede repartirlo en cuatro plazos sin intereses "
        "(abril, junio, septiembre y noviembre) y obtener una bonificación del 3 %. Para que se aplique ese mismo año, "
        "solicítelo antes del 31 de enero.",
        "who_can_apply": "La persona titular del inmueble o su representante. La cuenta puede ser de otra persona si "
        "esta firma su conformidad.",
        "fee": "Gratuito",
        "duration_minutes": 15,
        "online_url": f"{SEDE}/tributos/domiciliacion",
        "keywords": "IBI, contribución, domiciliar, domiciliación, recibo, plazos, fraccionar, pagar, banco, impuesto "
        "vivienda",
        "requirements": [
            ID_DOCUMENT,
            {
                "text": "Solicitud de domiciliación o del sistema especial de pago",
                "note": "Disponible en la sede electrónica y en la oficina.",
                "en": {
                    "text": "Direct debit or special payment plan application form",
                    "note": "Available from the online office and at the desk.",
                },
            },
            {
                "text": "Número de cuenta (IBAN) en el que se cargará el recibo",
                "note": "Si la cuenta es de otra persona, traiga su autorización firmada y copia de su DNI.",
                "en": {
                    "text": "Account number (IBAN) to be debited",
                    "note": "If the account belongs to someone else, bring their signed consent and a copy of their "
                    "DNI.",
                },
            },
            IBI_RECEIPT,
            REPRESENTATION,
        ],
        "en": {
            "name": "Property tax (IBI): direct debit and payment in instalments",
            "summary": "Pay your property tax (IBI) bill by direct debit and, if you wish, in four interest-free "
            "instalments.",
            "description": "IBI is the annual tax paid by owners of homes, business premises and land. With a direct "
            "debit, the bill is charged to your account on the due date, so you do not have to keep track of payment "
            "periods. The special payment plan spreads it over four interest-free instalments (April, June, September "
            "and November) and gives you a 3% discount. To apply it in the same year, request it before 31 January.",
            "who_can_apply": "The owner of the property or their representative. The account may belong to someone "
            "else if they sign their consent.",
            "fee": "Free",
            "keywords": "IBI, property tax, council tax, direct debit, bill, instalments, pay, bank",
        },
    },
    {
        "slug": "ibi-bonificaciones",
        "area": "tributos",
        "offices": {OAC: 2},
        "name": "IBI: bonificaciones (familia numerosa, energía solar y VPO)",
        "summary": "Solicite las reducciones del IBI por familia numerosa, por instalar placas solares o por vivienda "
        "de protección oficial.",
        "description": "La ordenanza fiscal prevé bonificaciones del IBI para familias numerosas en su vivienda "
        "habitual (del 30 % al 60 % según la categoría y el valor catastral), para viviendas con placas solares "
        "(50 % durante tres años) y para viviendas de protección oficial. Las bonificaciones no se aplican de oficio: "
        "debe solicitarlas antes del 1 de marzo para que se descuenten en el recibo de ese año. En la cita le "
        "confirmaremos si cumple los requisitos.",
        "who_can_apply": "Titulares del inmueble que cumplan las condiciones de cada bonificación. Para la de familia "
        "numerosa, la vivienda debe ser la habitual y la familia debe estar empadronada en ella.",
        "fee": "Gratuito",
        "duration_minutes": 20,
        "online_url": f"{SEDE}/tributos/bonificaciones-ibi",
        "keywords": "IBI, bonificación, descuento, rebaja, familia numerosa, placas solares, fotovoltaica, VPO",
        "requirements": [
            ID_DOCUMENT,
            {
                "text": "Solicitud de bonificación cumplimentada y firmada",
                "en": {"text": "Discount application form, filled in and signed"},
            },
            {
                "text": "Título de familia numerosa en vigor",
                "note": "Para la bonificación por familia numerosa.",
                "optional": True,
                "en": {
                    "text": "Valid large-family card (título de familia numerosa)",
                    "note": "For the large-family discount.",
                },
            },
            {
                "text": "Certificado de la instalación de energía solar y factura",
                "note": "Para la bonificación por placas solares. La instalación debe estar legalizada.",
                "optional": True,
                "en": {
                    "text": "Solar installation certificate and invoice",
                    "note": "For the solar panel discount. The installation must be officially registered.",
                },
            },
            {
                "text": "Cédula de calificación definitiva de vivienda de protección oficial",
                "note": "Para la bonificación de VPO.",
                "optional": True,
                "en": {
                    "text": "Final classification certificate as subsidised housing (VPO)",
                    "note": "For the subsidised-housing discount.",
                },
            },
            IBI_RECEIPT,
        ],
        "en": {
            "name": "Property tax (IBI): discounts (large families, solar energy and subsidised housing)",
            "summary": "Apply for property tax discounts for large families, solar panels or subsidised housing (VPO).",
            "description": "The tax bylaw provides IBI discounts for large families in their main home (30% to 60% "
            "depending on the category and cadastral value), for homes with solar panels (50% for three years) and for "
            "subsidised housing. Discounts are not applied automatically: you must apply before 1 March for them to "
            "be deducted from that year's bill. At your appointment we will confirm whether you qualify.",
            "who_can_apply": "Property owners who meet the conditions of each discount. For the large-family discount, "
            "the home must be the family's main residence and the family must be registered there.",
            "fee": "Free",
            "keywords": "IBI, property tax, discount, reduction, large family, solar panels, photovoltaic, VPO",
        },
    },
    {
        "slug": "tasa-residuos",
        "area": "tributos",
        "offices": {OAC: 2, NORTE: 1},
        "name": "Tasa de residuos (basura): cambios, reducciones y reclamaciones",
        "summary": "Corrija los datos de su recibo de basura, solicite una reducción o presente una reclamación sobre "
        "el importe.",
        "description": "Desde 2025 la ley obliga a los ayuntamientos a cobrar una tasa por la recogida y el "
        "tratamiento "
        "de los residuos domésticos. En Villanueva del Pinar se cobra a la persona propietaria de la vivienda o el "
        "local, en el mismo plazo que el IBI. En esta cita puede corregir los datos del recibo, pedir la reducción "
        "para hogares con bajos ingresos o por compostaje doméstico, o reclamar si no está de acuerdo con el importe.",
        "who_can_apply": "Personas propietarias o usuarias de viviendas y locales del municipio.",
        "fee": "Gratuito",
        "duration_minutes": 15,
        "online_url": f"{SEDE}/tributos/tasa-residuos",
        "keywords": "basura, residuos, tasa de basuras, recibo, reciclaje, compostaje, reclamación, recogida",
        "requirements": [
            ID_DOCUMENT,
            {
                "text": "Último recibo de la tasa de residuos",
                "en": {"text": "Latest waste collection fee bill"},
            },
            {
                "text": "Justificante de ingresos de la unidad familiar",
                "note": "Solo para la reducción por bajos ingresos: declaración de la renta o certificado de la "
                "Agencia "
                "Tributaria.",
                "optional": True,
                "en": {
                    "text": "Proof of household income",
                    "note": "Only for the low-income reduction: income tax return or a certificate from the Tax "
                    "Agency.",
                },
            },
            {
                "text": "Documento del cambio de titularidad",
                "note": "Escritura de compraventa, de herencia o contrato de alquiler, si el recibo debe ir a otro "
                "nombre.",
                "optional": True,
                "en": {
                    "text": "Document showing the change of owner",
                    "note": "Deed of sale or inheritance, or rental contract, if the bill should be in another name.",
                },
            },
        ],
        "en": {
            "name": "Waste collection fee: changes, reductions and complaints",
            "summary": "Correct the details on your waste collection bill, apply for a reduction or dispute the "
            "amount.",
            "description": "Since 2025 the law requires town halls to charge a fee for collecting and treating "
            "household "
            "waste. In Villanueva del Pinar it is charged to the owner of the home or premises, in the same payment "
            "period as the IBI. At this appointment you can correct the details on the bill, apply for the reduction "
            "for low-income households or home composting, or file a complaint if you disagree with the amount.",
            "who_can_apply": "Owners or occupants of homes and business premises in the town.",
            "fee": "Free",
            "keywords": "rubbish, waste, bin, refuse collection fee, bill, recycling, composting, complaint",
        },
    },
    {
        "slug": "plusvalia",
        "area": "tributos",
        "offices": {OAC: 1},
        "name": "Plusvalía municipal (IIVTNU): autoliquidación",
        "summary": "Declare y pague la plusvalía municipal cuando venda, herede o reciba en donación una vivienda o un "
        "terreno.",
        "description": "El Impuesto sobre el Incremento de Valor de los Terrenos de Naturaleza Urbana, la «plusvalía», "
        "grava el aumento de valor del suelo cuando un inmueble cambia de manos. Lo paga quien vende o, en herencias "
        "y donaciones, quien recibe el inmueble. El plazo es de 30 días hábiles desde la venta o donación, y de seis "
        "meses desde el fallecimiento en las herencias, prorrogables hasta un año. Si no hubo ganancia no se paga, "
        "pero debe presentar igualmente la declaración con las escrituras de compra y de venta.",
        "who_can_apply": "En las ventas, la persona vendedora; en herencias y donaciones, quien recibe el inmueble. "
        "Puede presentarla en su nombre una gestoría o la notaría.",
        "fee": "Importe según autoliquidación",
        "duration_minutes": 20,
        "online_url": f"{SEDE}/tributos/plusvalia",
        "keywords": "plusvalía, IIVTNU, herencia, heredar, venta de piso, compraventa, donación, notaría, escritura",
        "requirements": [
            ID_DOCUMENT,
            {
                "text": "Escritura de la transmisión (compraventa, donación o aceptación de herencia)",
                "note": "Basta una copia simple. En herencias aún sin escritura: certificado de defunción y testamento "
                "o declaración de herederos.",
                "en": {
                    "text": "Deed of the transfer (sale, gift or acceptance of inheritance)",
                    "note": "A plain copy is enough. For inheritances without a deed yet: death certificate and the "
                    "will or the declaration of heirs.",
                },
            },
            {
                "text": "Escritura por la que se adquirió el inmueble",
                "note": "Necesaria para calcular los años transcurridos y, en su caso, demostrar que no hubo ganancia.",
                "en": {
                    "text": "Deed by which the property was previously acquired",
                    "note": "Needed to work out the years of ownership and, where relevant, to show there was no gain.",
                },
            },
            IBI_RECEIPT,
            REPRESENTATION,
        ],
        "en": {
            "name": "Municipal capital gains tax on land (plusvalía, IIVTNU): self-assessment",
            "summary": "Declare and pay the municipal capital gains tax when you sell, inherit or receive a home or "
            "land as a gift.",
            "description": "The tax on the increase in value of urban land, known as «plusvalía», is charged on the "
            "rise in the value of the land when a property changes hands. The seller pays it or, for inheritances "
            "and gifts, the person who receives the property. You have 30 working days from the sale or gift, and six "
            "months from the death for inheritances, extendable to one year. If there was no gain nothing is payable, "
            "but you must still file the return with the purchase and sale deeds.",
            "who_can_apply": "For sales, the seller; for inheritances and gifts, the person receiving the property. An "
            "agency (gestoría) or the notary may file it on your behalf.",
            "fee": "Amount according to the self-assessment",
            "keywords": "plusvalia, capital gains, inheritance, inherit, selling a flat, sale, gift, notary, deed",
        },
    },
    {
        "slug": "vado-permanente",
        "area": "movilidad",
        "offices": {OAC: 1},
        "name": "Licencia de vado permanente",
        "summary": "Solicite la placa de vado para reservar la entrada de vehículos a su garaje.",
        "description": "El vado permanente reserva, las 24 horas del día, el paso de vehículos por la acera frente a "
        "su "
        "garaje. Tras la solicitud, los servicios técnicos comprueban el acceso y, si se concede la licencia, le "
        "entregamos la placa oficial numerada, que debe colocar en un lugar visible. La licencia tiene además una "
        "tasa anual según los metros lineales de acceso. Si hay que rebajar el bordillo, necesitará también una "
        "licencia de obra menor.",
        "who_can_apply": "Personas propietarias o inquilinas de un inmueble con garaje, y comunidades de propietarios.",
        "fee": "Tasa: 30,00 € + placa 24,50 €",
        "duration_minutes": 20,
        "online_url": f"{SEDE}/movilidad/vado",
        "keywords": "vado, cochera, garaje, placa, entrada de vehículos, aparcar, acera, bordillo",
        "requirements": [
            ID_DOCUMENT,
            {
                "text": "Solicitud de licencia de vado cumplimentada y firmada",
                "en": {"text": "Dropped-kerb (vado) licence application form, filled in and signed"},
            },
            {
                "text": "Croquis de la situación del acceso con los metros lineales",
                "note": "En viviendas unifamiliares basta un croquis a mano con las medidas.",
                "en": {
                    "text": "Sketch of the entrance showing its width in metres",
                    "note": "For detached houses a hand-drawn sketch with measurements is enough.",
                },
            },
            {
                "text": "Fotografía de la fachada con la puerta del garaje",
                "en": {"text": "Photo of the façade showing the garage door"},
            },
            {
                "text": "Escritura, contrato de alquiler o acuerdo de la comunidad de propietarios",
                "note": "En garajes comunitarios, acta de la junta que aprueba la solicitud.",
                "en": {
                    "text": "Title deed, rental contract or owners' association agreement",
                    "note": "For shared garages, the minutes of the owners' meeting approving the application.",
                },
            },
            FEE_RECEIPT,
        ],
        "en": {
            "name": "Permanent dropped-kerb licence (vado)",
            "summary": "Apply for a vado sign to keep the entrance to your garage clear of parked cars.",
            "description": "A permanent vado keeps vehicle access across the pavement in front of your garage clear 24 "
            "hours a day. After you apply, our technicians check the entrance and, if the licence is granted, we give "
            "you the official numbered sign, which must be displayed where it can be seen. The licence also carries an "
            "annual fee based on the width of the entrance. If the kerb needs lowering, you will also need a minor "
            "works licence.",
            "who_can_apply": "Owners or tenants of a property with a garage, and owners' associations.",
            "fee": "Fee: €30.00 + sign €24.50",
            "keywords": "dropped kerb, vado, garage, driveway, sign, vehicle entrance, parking, pavement",
        },
    },
    {
        "slug": "ocupacion-via-publica",
        "area": "movilidad",
        "offices": {OAC: 1, NORTE: 1},
        "name": "Ocupación de la vía pública (mudanzas, contenedores y andamios)",
        "summary": "Pida permiso para reservar espacio en la calle durante una mudanza o para colocar un contenedor de "
        "obra o un andamio.",
        "description": "Cualquier ocupación temporal de la calzada o la acera necesita autorización municipal. "
        "Solicítela con al menos diez días hábiles de antelación, indicando la ubicación, la superficie y las fechas. "
        "En las mudanzas, la Policía Local señaliza la reserva de espacio una vez concedida. Si la ocupación está "
        "ligada a una obra, debe tener ya presentada la licencia o la declaración responsable de esa obra.",
        "who_can_apply": "Particulares, empresas de mudanzas y empresas constructoras.",
        "fee": "Tasa: desde 12,00 € al día según superficie",
        "duration_minutes": 15,
        "online_url": f"{SEDE}/movilidad/ocupacion-via-publica",
        "keywords": "mudanza, contenedor, cuba, andamio, reservar aparcamiento, ocupación, calle, acera, plataforma",
        "requirements": [
            ID_DOCUMENT,
            {
                "text": "Solicitud de ocupación de la vía pública",
                "note": "Con la dirección exacta, las fechas y los metros cuadrados que ocupará.",
                "en": {
                    "text": "Application to use public space",
                    "note": "With the exact address, the dates and the square metres you will occupy.",
                },
            },
            {
                "text": "Croquis de la ubicación",
                "en": {"text": "Sketch showing the location"},
            },
            {
                "text": "Número de expediente de la licencia o declaración responsable de la obra",
                "note": "Solo para contenedores y andamios de obra.",
                "optional": True,
                "en": {
                    "text": "File number of the works licence or declaration",
                    "note": "Only for skips and scaffolding linked to building works.",
                },
            },
            {
                "text": "Póliza de seguro de responsabilidad civil de la empresa",
                "note": "Para andamios y plataformas elevadoras.",
                "optional": True,
                "en": {
                    "text": "The company's third-party liability insurance policy",
                    "note": "For scaffolding and aerial work platforms.",
                },
            },
            FEE_RECEIPT,
        ],
        "en": {
            "name": "Use of public space (house moves, skips and scaffolding)",
            "summary": "Get permission to reserve street space for a house move or to place a skip or scaffolding.",
            "description": "Any temporary use of the road or pavement requires municipal permission. Apply at least "
            "ten "
            "working days in advance, stating the location, the area and the dates. For house moves, the Local Police "
            "put up the parking restriction signs once permission is granted. If it is for building works, the works "
            "licence or declaration must already have been submitted.",
            "who_can_apply": "Individuals, removal companies and building contractors.",
            "fee": "Fee: from €12.00 per day depending on the area",
            "keywords": "house move, removals, skip, scaffolding, reserve parking, street, pavement, permit",
        },
    },
    {
        "slug": "tarjeta-estacionamiento-pmr",
        "next_working_day": True,  # the file is prepared the day before
        "area": "movilidad",
        "offices": {CSSU: 1, OAC: 1},
        "name": "Tarjeta de estacionamiento para personas con movilidad reducida",
        "summary": "Obtenga o renueve la tarjeta que permite aparcar en las plazas reservadas para personas con "
        "discapacidad.",
        "description": "La tarjeta de estacionamiento le permite usar las plazas reservadas para personas con "
        "movilidad "
        "reducida en toda la Unión Europea y, en el municipio, parar en zonas de carga y descarga el tiempo "
        "imprescindible. Es personal e intransferible: solo puede usarse cuando la persona titular viaja en el "
        "vehículo. Para concederla se necesita un dictamen de movilidad reducida del Centro Base de Valoración de la "
        "Comunidad de Madrid.",
        "who_can_apply": "Personas empadronadas en Villanueva del Pinar con discapacidad reconocida y dictamen "
        "favorable "
        "de movilidad reducida o con discapacidad visual grave, y entidades que transportan a personas con "
        "discapacidad.",
        "fee": "Gratuito",
        "duration_minutes": 15,
        "keywords": "tarjeta de aparcamiento, discapacidad, minusválido, movilidad reducida, PMR, plaza reservada, "
        "estacionamiento",
        "requirements": [
            ID_DOCUMENT,
            {
                "text": "Solicitud de tarjeta de estacionamiento",
                "en": {"text": "Parking card application form"},
            },
            {
                "text": "Una fotografía reciente tamaño carné",
                "note": "En color y con fondo blanco.",
                "en": {"text": "One recent passport-size photograph", "note": "In colour, on a white background."},
            },
            {
                "text": "Certificado de discapacidad con dictamen de movilidad reducida",
                "note": "Emitido por el Centro Base de Valoración de la Comunidad de Madrid.",
                "en": {
                    "text": "Disability certificate with a reduced-mobility assessment",
                    "note": "Issued by the Community of Madrid's assessment centre (Centro Base).",
                },
            },
            {
                "text": "Tarjeta anterior",
                "note": "Si es una renovación; debe entregarla al recoger la nueva.",
                "optional": True,
                "en": {"text": "Previous card", "note": "For renewals; you hand it in when you collect the new one."},
            },
            {
                "text": "DNI de la persona representante y documento que acredite la representación",
                "note": "Si la persona titular es menor de edad o cuenta con una persona que le presta apoyo.",
                "optional": True,
                "en": {
                    "text": "DNI of the representative and proof of representation",
                    "note": "If the card holder is a minor or has a designated support person.",
                },
            },
        ],
        "en": {
            "name": "Disabled parking card for people with reduced mobility",
            "summary": "Get or renew the card that lets you park in spaces reserved for people with disabilities.",
            "description": "The parking card lets you use spaces reserved for people with reduced mobility anywhere in "
            "the European Union and, within the town, stop in loading bays for as long as necessary. It is personal "
            "and non-transferable: it may only be used when the holder is travelling in the vehicle. It is granted on "
            "the basis of a reduced-mobility assessment from the Community of Madrid's assessment centre (Centro "
            "Base).",
            "who_can_apply": "People registered in Villanueva del Pinar with a recognised disability and a favourable "
            "reduced-mobility assessment or a severe visual impairment, and organisations that transport people with "
            "disabilities.",
            "fee": "Free",
            "keywords": "disabled parking, blue badge, disability, reduced mobility, parking card, reserved space",
        },
    },
    {
        "slug": "licencia-obra-menor",
        "area": "urbanismo",
        "offices": {CSSU: 2, OAC: 1},
        "name": "Licencia de obra menor",
        "summary": "Solicite licencia para las obras sencillas que necesitan autorización antes de empezar, como las "
        "que afectan a la fachada o a un edificio protegido.",
        "description": "La mayoría de las obras pequeñas en viviendas se tramitan hoy con una declaración responsable, "
        "pero algunas necesitan licencia previa: las que afectan a edificios catalogados o a su entorno, las que se "
        "hacen en suelo no urbanizable o las que modifican la fachada o la cubierta. Los técnicos municipales "
        "revisarán su solicitud y le comunicarán la resolución por escrito. No empiece la obra hasta tener la "
        "licencia concedida.",
        "who_can_apply": "Personas propietarias del inmueble, inquilinas con autorización de la propiedad y "
        "comunidades de propietarios.",
        "fee": WORKS_FEE,
        "duration_minutes": 20,
        "online_url": f"{SEDE}/urbanismo/obra-menor",
        "keywords": "obra, obras, licencia, permiso de obra, reforma, fachada, tejado, cubierta, albañil",
        "requirements": [
            ID_DOCUMENT,
            {
                "text": "Impreso de solicitud de licencia de obra menor",
                "en": {"text": "Minor works licence application form"},
            },
            WORKS_BUDGET,
            {
                "text": "Plano o croquis de la obra y fotografías del estado actual",
                "en": {"text": "Plan or sketch of the works and photos of the current state"},
            },
            {
                "text": "Memoria técnica firmada por un técnico competente",
                "note": "Solo si la obra afecta a la estructura, a la fachada o a un edificio protegido.",
                "optional": True,
                "en": {
                    "text": "Technical report signed by a qualified professional",
                    "note": "Only if the works affect the structure, the façade or a listed building.",
                },
            },
            OWNER_WORKS_CONSENT,
            WORKS_FEE_RECEIPT,
        ],
        "en": {
            "name": "Minor works licence",
            "summary": "Apply for a licence for simple works that need permission before they start, such as work on "
            "the façade or on a listed building.",
            "description": "Most small works in homes are now covered by a declaration (declaración responsable), but "
            "some need a licence beforehand: works on listed buildings or their surroundings, works on non-developable "
            "land, and works that alter the façade or the roof. Our technicians will review your application and send "
            "you the decision in writing. Do not start the works until the licence has been granted.",
            "who_can_apply": "Property owners, tenants with the owner's consent, and owners' associations.",
            "fee": WORKS_FEE_EN,
            "keywords": "building works, licence, planning permission, renovation, façade, roof, builder",
        },
    },
    {
        "slug": "declaracion-responsable-obras",
        "area": "urbanismo",
        "offices": {CSSU: 2, OAC: 1},
        "name": "Declaración responsable de obras",
        "summary": "Comunique las obras de reforma interior y otras actuaciones sencillas para empezar sin esperar una "
        "licencia.",
        "description": "Con la declaración responsable usted declara que la obra cumple la normativa y puede empezarla "
        "el mismo día en que la presenta con toda la documentación. Sirve para reformar cocinas y baños, cambiar "
        "suelos y alicatados, pintar o sustituir ventanas sin alterar la fachada, siempre que no se toque la "
        "estructura. Los técnicos municipales revisarán después la documentación y podrán inspeccionar la obra.",
        "who_can_apply": "Personas propietarias del inmueble, inquilinas con autorización de la propiedad y "
        "comunidades de propietarios.",
        "fee": WORKS_FEE,
        "duration_minutes": 20,
        "online_url": f"{SEDE}/urbanismo/declaracion-responsable",
        "keywords": "declaración responsable, reforma, cocina, baño, obra, ventanas, suelo, alicatado, pintar",
        "requirements": [
            ID_DOCUMENT,
            {
                "text": "Modelo de declaración responsable de obras, firmado",
                "en": {"text": "Works declaration form (declaración responsable), signed"},
            },
            WORKS_BUDGET,
            {
                "text": "Descripción de las obras y fotografías del estado actual",
                "en": {"text": "Description of the works and photos of the current state"},
            },
            OWNER_WORKS_CONSENT,
            WORKS_FEE_RECEIPT,
        ],
        "en": {
            "name": "Works declaration (declaración responsable)",
            "summary": "Notify the Town Hall of interior renovations and other simple works so you can start without "
            "waiting for a licence.",
            "description": "With a works declaration you state that the works comply with the regulations, and you can "
            "start on the day you submit it with all the documents. It covers renovating kitchens and bathrooms, "
            "replacing floors and tiles, painting or replacing windows without altering the façade, as long as the "
            "structure is not touched. Our technicians will check the documents afterwards and may inspect the works.",
            "who_can_apply": "Property owners, tenants with the owner's consent, and owners' associations.",
            "fee": WORKS_FEE_EN,
            "keywords": "works declaration, renovation, kitchen, bathroom, building works, windows, floor, tiles, "
            "painting",
        },
    },
    {
        "slug": "consulta-urbanistica",
        "area": "urbanismo",
        "offices": {CSSU: 1},
        "weekdays": (1, 3),
        "name": "Consulta con el arquitecto o la arquitecta municipal",
        "summary": "Resuelva sus dudas sobre una obra, una parcela o la normativa urbanística con los técnicos "
        "municipales.",
        "description": "Antes de comprar un inmueble o de empezar una obra conviene saber qué permite el planeamiento "
        "urbanístico. En esta cita los técnicos municipales le informan de la normativa que se aplica, del "
        "procedimiento que corresponde a su obra y de la documentación que necesitará. Es una consulta informativa y "
        "no sustituye a la licencia; se atiende los martes y los jueves.",
        "who_can_apply": "Cualquier persona interesada, así como arquitectos, aparejadores y otros profesionales.",
        "fee": "Gratuito",
        "duration_minutes": 30,
        "requires_document": False,
        "keywords": "arquitecto, urbanismo, consulta, normativa, parcela, terreno, ampliación, piscina, información "
        "urbanística",
        "requirements": [
            {
                "text": "Dirección o referencia catastral del inmueble",
                "en": {"text": "Address or cadastral reference of the property"},
            },
            {
                "text": "Fotografías y planos o croquis de lo que quiere consultar",
                "note": "Cuanta más información traiga, más concreta podrá ser la respuesta.",
                "en": {
                    "text": "Photos and plans or sketches of what you want to ask about",
                    "note": "The more information you bring, the more specific our answer can be.",
                },
            },
            {
                "text": "Sus preguntas por escrito",
                "note": "Le ayudará a aprovechar el tiempo de la cita.",
                "optional": True,
                "en": {
                    "text": "Your questions in writing",
                    "note": "It will help you make the most of the appointment.",
                },
            },
        ],
        "en": {
            "name": "Appointment with the municipal architect",
            "summary": "Get answers about building works, a plot of land or planning rules from the municipal "
            "technicians.",
            "description": "Before buying a property or starting building works, it is worth knowing what the town "
            "plan allows. At this appointment our technicians explain the rules that apply, which procedure your works "
            "need and what documents you will have to provide. It is for information only and does not replace a "
            "licence; appointments are on Tuesdays and Thursdays.",
            "who_can_apply": "Anyone interested, as well as architects, building surveyors and other professionals.",
            "fee": "Free",
            "keywords": "architect, planning, advice, regulations, plot, land, extension, swimming pool, planning "
            "information",
        },
    },
    {
        "slug": "cita-trabajador-social",
        "buffer_minutes": 10,  # notes after each conversation
        "area": "servicios-sociales",
        "offices": {CSSU: 3},
        "name": "Cita con trabajador o trabajadora social",
        "summary": "Hable con una trabajadora o un trabajador social sobre cualquier dificultad personal, familiar, "
        "económica o de cuidados.",
        "description": "La trabajadora o el trabajador social es la puerta de entrada a los servicios sociales "
        "municipales. Le escuchará, valorará su situación con total confidencialidad y le informará de los recursos "
        "a los que puede acceder: ayudas económicas, ayuda a domicilio, dependencia, ingreso mínimo vital, centros de "
        "día o mediación familiar. Si se trata de una urgencia, llame al centro y le atenderemos el mismo día.",
        "who_can_apply": "Cualquier persona que viva en Villanueva del Pinar. Para una primera atención no es "
        "necesario "
        "estar empadronado.",
        "fee": "Gratuito",
        "duration_minutes": 30,
        "requires_document": False,
        "keywords": "trabajadora social, asistenta social, servicios sociales, ayuda, dependencia, cuidados, familia, "
        "mayores",
        "requirements": [
            {
                "text": "Documento de identidad, si lo tiene",
                "note": "DNI, NIE o pasaporte. Si no tiene documentación, le atenderemos igualmente.",
                "en": {
                    "text": "Identity document, if you have one",
                    "note": "DNI, NIE or passport. If you have no documents, we will still see you.",
                },
            },
            {
                "text": "Volante de empadronamiento",
                "note": "Si no lo trae, podemos consultarlo nosotros con su autorización.",
                "optional": True,
                "en": {
                    "text": "Proof of registration (volante de empadronamiento)",
                    "note": "If you do not bring it, we can look it up with your permission.",
                },
            },
            {
                "text": "Documentos relacionados con su situación",
                "note": "Informes médicos, cartas de otras administraciones o justificantes de ingresos, si los tiene "
                "a mano.",
                "optional": True,
                "en": {
                    "text": "Documents related to your situation",
                    "note": "Medical reports, letters from other administrations or proof of income, if you have them "
                    "to hand.",
                },
            },
        ],
        "en": {
            "name": "Appointment with a social worker",
            "summary": "Talk to a social worker about any personal, family, financial or care-related difficulty.",
            "description": "The social worker is your way into the town's social services. They will listen to you, "
            "assess your situation in complete confidence and tell you about the support available: financial aid, "
            "home help, long-term care, the minimum living income, day centres or family mediation. If it is urgent, "
            "call the centre and we will see you the same day.",
            "who_can_apply": "Anyone living in Villanueva del Pinar. You do not need to be registered on the padrón "
            "for "
            "a first appointment.",
            "fee": "Free",
            "keywords": "social worker, social services, help, support, care, dependency, family, elderly",
        },
    },
    {
        "slug": "ayudas-emergencia-social",
        "high_demand": True,  # a limited fund, soon spent: bookings are confirmed by e-mail
        "area": "servicios-sociales",
        "offices": {CSSU: 2},
        "name": "Ayudas económicas de emergencia social",
        "summary": "Solicite una ayuda puntual para cubrir necesidades básicas urgentes, como alimentación, alquiler o "
        "suministros.",
        "description": "Las ayudas de emergencia social cubren gastos imprescindibles que una familia no puede "
        "afrontar "
        "en un momento de dificultad: alimentación, alquiler o hipoteca de la vivienda habitual, recibos de luz, agua "
        "o gas, o medicamentos. Se conceden tras la valoración de la trabajadora o el trabajador social, que puede "
        "pedirle documentación adicional. La cuantía depende de los ingresos y del número de personas que conviven "
        "en la vivienda.",
        "who_can_apply": "Personas empadronadas en Villanueva del Pinar desde hace al menos seis meses cuyos ingresos "
        "no "
        "superen los límites de la convocatoria. En situaciones de especial vulnerabilidad puede no exigirse el "
        "empadronamiento.",
        "fee": "Gratuito",
        "duration_minutes": 30,
        "keywords": "ayuda, emergencia, dinero, alquiler, luz, comida, alimentos, factura, urgente, pobreza",
        "requirements": [
            {
                "text": "DNI o NIE de todas las personas mayores de edad que viven en la vivienda",
                "en": {"text": "DNI or NIE of every adult living in the home"},
            },
            {
                "text": "Solicitud de ayuda firmada",
                "note": "Se la entregará su trabajadora o trabajador social.",
                "en": {"text": "Signed aid application", "note": "Your social worker will give it to you."},
            },
            {
                "text": "Justificantes de ingresos de los últimos tres meses",
                "note": "Nóminas, pensiones, prestación por desempleo o certificado del SEPE de no cobrar "
                "prestaciones.",
                "en": {
                    "text": "Proof of income for the last three months",
                    "note": "Payslips, pensions, unemployment benefit, or a certificate from the employment service "
                    "(SEPE) stating that you receive no benefits.",
                },
            },
            {
                "text": "Justificante del gasto para el que pide la ayuda",
                "note": "Factura, recibo del alquiler o de suministros, o presupuesto.",
                "en": {
                    "text": "Proof of the expense you need help with",
                    "note": "Invoice, rent or utility bill, or a quote.",
                },
            },
            {
                "text": "Certificado de titularidad de la cuenta bancaria",
                "en": {"text": "Bank certificate showing you hold the account"},
            },
            {
                "text": "Libro de familia",
                "note": "Si hay menores en la familia.",
                "optional": True,
                "en": {"text": "Family book (libro de familia)", "note": "If there are children in the family."},
            },
        ],
        "en": {
            "name": "Emergency social assistance grants",
            "summary": "Apply for one-off financial help with urgent basic needs such as food, rent or utility bills.",
            "description": "Emergency grants cover essential expenses that a family cannot meet at a difficult time: "
            "food, rent or mortgage payments on the main home, electricity, water or gas bills, or medicines. They are "
            "granted after an assessment by your social worker, who may ask you for further documents. The amount "
            "depends on income and on the number of people living in the home.",
            "who_can_apply": "People registered in Villanueva del Pinar for at least six months whose income is below "
            "the limits set in the call for applications. The registration requirement may be waived in situations "
            "of particular vulnerability.",
            "fee": "Free",
            "keywords": "financial help, emergency, money, rent, electricity, food, bills, urgent, poverty",
        },
    },
    {
        "slug": "ayuda-domicilio-teleasistencia",
        "area": "servicios-sociales",
        "offices": {CSSU: 2},
        "name": "Ayuda a domicilio y teleasistencia",
        "summary": "Solicite apoyo en casa para personas mayores o con discapacidad: ayuda con el cuidado personal y "
        "el hogar, y teleasistencia.",
        "description": "El servicio de ayuda a domicilio ofrece a personas mayores, con discapacidad o en situación de "
        "dependencia el apoyo de auxiliares para el aseo, la movilidad, las comidas o las tareas del hogar. La "
        "teleasistencia es un pulsador que la persona lleva siempre consigo y que la conecta las 24 horas con una "
        "central de atención ante cualquier emergencia. La trabajadora o el trabajador social valorará la necesidad, "
        "a menudo con una visita a la vivienda.",
        "who_can_apply": "Personas empadronadas en el municipio mayores de 65 años o con discapacidad o dependencia, o "
        "sus familiares en su nombre.",
        "fee": "Aportación según ingresos (la teleasistencia es gratuita)",
        "duration_minutes": 30,
        "keywords": "ayuda a domicilio, teleasistencia, mayores, cuidadora, dependencia, pulsador, auxiliar, personas "
        "mayores",
        "requirements": [
            {
                "text": "DNI o NIE de la persona que necesita el servicio",
                "en": {"text": "DNI or NIE of the person who needs the service"},
            },
            {
                "text": "Informe médico actualizado",
                "note": "Que describa su estado de salud y su grado de autonomía.",
                "en": {
                    "text": "Up-to-date medical report",
                    "note": "Describing their health and how independent they are.",
                },
            },
            {
                "text": "Justificante de ingresos o de la pensión de la persona usuaria",
                "en": {"text": "Proof of the user's income or pension"},
            },
            {
                "text": "Resolución del grado de dependencia o certificado de discapacidad",
                "note": "Si los tiene.",
                "optional": True,
                "en": {"text": "Dependency assessment decision or disability certificate", "note": "If available."},
            },
            {
                "text": "DNI de la persona que acude en su nombre",
                "note": "Si la solicita un familiar.",
                "optional": True,
                "en": {"text": "DNI of the person coming on their behalf", "note": "If a relative is applying."},
            },
        ],
        "en": {
            "name": "Home help and telecare",
            "summary": "Apply for support at home for older or disabled people: help with personal care and housework, "
            "and telecare.",
            "description": "The home help service provides older people, people with disabilities and people with "
            "long-term care needs with care assistants who help with washing, getting about, meals and housework. "
            "Telecare is an alarm button the person always carries, which connects them 24 hours a day to a response "
            "centre in any emergency. A social worker will assess the need, often with a home visit.",
            "who_can_apply": "People registered in the town who are over 65 or have a disability or long-term care "
            "needs, or their relatives on their behalf.",
            "fee": "Contribution based on income (telecare is free)",
            "keywords": "home help, telecare, elderly, carer, care needs, alarm button, care assistant, older people",
        },
    },
    {
        "slug": "expediente-matrimonial",
        "area": "registro-civil",
        "offices": {OAC: 1},
        "weekdays": (1, 3),
        "name": "Expediente matrimonial (Juzgado de Paz)",
        "summary": "Inicie el expediente que deben tramitar las parejas antes de casarse por lo civil.",
        "description": "Antes de casarse por lo civil hay que tramitar un expediente en el que se comprueba que los "
        "contrayentes cumplen los requisitos legales. Puede hacerse ante notario o a través del Registro Civil; en "
        "Villanueva del Pinar, el Juzgado de Paz, en la Casa Consistorial, recoge la solicitud y la envía a la Oficina "
        "del Registro Civil que corresponde. Una vez aprobado, tienen un año para celebrar la boda.",
        "who_can_apply": "Parejas en las que al menos uno de los contrayentes está empadronado en Villanueva del "
        "Pinar. "
        "Deben acudir los dos.",
        "fee": "Gratuito",
        "duration_minutes": 30,
        "keywords": "boda, casarse, matrimonio, expediente matrimonial, juzgado de paz, registro civil, contrayentes",
        "requirements": [
            {
                "text": "DNI, NIE o pasaporte original en vigor de los dos contrayentes",
                "en": {"text": "Original, valid DNI, NIE or passport of both partners"},
            },
            {
                "text": "Certificado literal de nacimiento de cada contrayente",
                "note": "Si se expidió en el extranjero, legalizado o apostillado y, en su caso, con traducción "
                "jurada.",
                "en": {
                    "text": "Full birth certificate of each partner",
                    "note": "If issued abroad, legalised or apostilled and, where needed, with a sworn translation.",
                },
            },
            {
                "text": "Certificado o volante de empadronamiento de los dos últimos años de cada contrayente",
                "en": {"text": "Registration certificate or volante covering the last two years, for each partner"},
            },
            {
                "text": "Declaración jurada o certificado de estado civil",
                "en": {"text": "Sworn statement or certificate of marital status"},
            },
            {
                "text": "Certificado de matrimonio anterior con la inscripción del divorcio, o certificado de "
                "defunción del cónyuge",
                "note": "Solo si alguno de los contrayentes ha estado casado.",
                "optional": True,
                "en": {
                    "text": "Certificate of the previous marriage showing the divorce, or the late spouse's death "
                    "certificate",
                    "note": "Only if either partner has been married before.",
                },
            },
            {
                "text": "Un testigo mayor de edad con su DNI",
                "note": "Declarará que conoce a los contrayentes y que no sabe de ningún impedimento para el "
                "matrimonio.",
                "en": {
                    "text": "One adult witness with their DNI",
                    "note": "They will declare that they know you both and know of no impediment to the marriage.",
                },
            },
        ],
        "en": {
            "name": "Marriage file (Justice of the Peace)",
            "summary": "Start the file that couples must complete before a civil wedding.",
            "description": "Before a civil wedding, a file must be completed to check that both partners meet the "
            "legal "
            "requirements. It can be done before a notary or through the Civil Registry; in Villanueva del Pinar, the "
            "Justice of the Peace office at the Town Hall takes your application and sends it to the relevant Civil "
            "Registry office. Once it is approved, you have one year to hold the wedding.",
            "who_can_apply": "Couples where at least one partner is registered in Villanueva del Pinar. Both partners "
            "must attend.",
            "fee": "Free",
            "keywords": "wedding, getting married, marriage, marriage file, justice of the peace, civil registry",
        },
    },
    {
        "slug": "matrimonio-civil",
        "high_demand": True,  # summer Saturdays go fast: bookings are confirmed by e-mail
        "area": "registro-civil",
        "offices": {OAC: 1},
        "name": "Celebración de matrimonio civil en el Ayuntamiento",
        "summary": "Reserve fecha y hora para casarse en el Salón de Plenos o en los jardines de la Casa de Cultura.",
        "description": "El Ayuntamiento celebra bodas civiles los viernes por la tarde y los sábados por la mañana, en "
        "el Salón de Plenos de la Casa Consistorial o, de mayo a septiembre, en los jardines de la Casa de Cultura, "
        "oficiadas por la alcaldesa o un concejal. En esta cita reservamos la fecha, le explicamos cómo será la "
        "ceremonia y recogemos la documentación. Puede reservar antes de tener aprobado el expediente matrimonial y "
        "presentar la resolución más tarde.",
        "who_can_apply": "Parejas con el expediente matrimonial aprobado o en trámite. No es necesario estar "
        "empadronados; las personas empadronadas pagan una tasa reducida.",
        "fee": "Tasa: 120,00 € (empadronados: 60,00 €)",
        "duration_minutes": 30,
        "keywords": "boda, boda civil, casarse, ceremonia, matrimonio, salón de plenos, alcaldesa, reservar fecha",
        "requirements": [
            {
                "text": "DNI, NIE o pasaporte original en vigor de los dos contrayentes",
                "en": {"text": "Original, valid DNI, NIE or passport of both partners"},
            },
            {
                "text": "Solicitud de celebración con la fecha y el lugar elegidos",
                "en": {"text": "Wedding request form with your chosen date and venue"},
            },
            {
                "text": "Resolución del expediente matrimonial o acta notarial",
                "note": "Puede aportarla más tarde, como mínimo un mes antes de la boda.",
                "en": {
                    "text": "Approval of the marriage file or the notarial record",
                    "note": "You can bring it later, at least one month before the wedding.",
                },
            },
            {
                "text": "Datos y copia del DNI de dos testigos mayores de edad",
                "note": "Puede facilitarlos hasta quince días antes de la ceremonia.",
                "en": {
                    "text": "Details and a copy of the DNI of two adult witnesses",
                    "note": "You can provide them up to fifteen days before the ceremony.",
                },
            },
            FEE_RECEIPT,
        ],
        "en": {
            "name": "Civil wedding at the Town Hall",
            "summary": "Book a date and time to get married in the Council Chamber or in the gardens of the Casa de "
            "Cultura.",
            "description": "The Town Hall holds civil weddings on Friday afternoons and Saturday mornings, in the "
            "Council "
            "Chamber at the Town Hall or, from May to September, in the gardens of the Casa de Cultura, conducted by "
            "the mayor or a councillor. At this appointment we book the date, explain how the ceremony works and "
            "collect your documents. You can book before your marriage file is approved and bring the approval later.",
            "who_can_apply": "Couples whose marriage file is approved or in progress. You do not need to be registered "
            "in the town, but registered residents pay a reduced fee.",
            "fee": "Fee: €120.00 (registered residents: €60.00)",
            "keywords": "wedding, civil wedding, getting married, ceremony, marriage, council chamber, mayor, book a "
            "date",
        },
    },
    {
        "slug": "certificado-digital-clave",
        "release_days_ahead": 28,  # popular: days open in batches, 08:00 each working day
        "area": "otros",
        "offices": {OAC: 1, NORTE: 1},
        "name": "Certificado digital (FNMT) y registro en Cl@ve",
        "summary": "Acredite su identidad en persona para obtener el certificado digital de la FNMT o darse de alta en "
        "Cl@ve.",
        "description": "El certificado digital y Cl@ve le permiten hacer trámites por internet con el Ayuntamiento y "
        "con otras administraciones. Para el certificado, solicítelo antes en la web de la FNMT y recibirá por correo "
        "electrónico un código de solicitud; en la oficina comprobamos su identidad y, pasadas unas horas, podrá "
        "descargarlo en el mismo ordenador y navegador desde el que lo pidió. Para Cl@ve solo necesita su documento "
        "de identidad y un teléfono móvil.",
        "who_can_apply": "Personas mayores de edad o menores emancipados con DNI o NIE.",
        "fee": "Gratuito",
        "duration_minutes": 15,
        "keywords": "certificado digital, FNMT, Cl@ve, clave, firma electrónica, identidad, acreditar, internet",
        "requirements": [
            {
                "text": "DNI o NIE original en vigor",
                "note": "Las personas extranjeras deben traer el NIE junto con el pasaporte o el documento de "
                "identidad "
                "de su país. No se admiten fotocopias.",
                "en": {
                    "text": "Original, valid DNI or NIE",
                    "note": "Foreign nationals must bring their NIE together with their passport or national identity "
                    "card. Photocopies are not accepted.",
                },
            },
            {
                "text": "Código de solicitud de la FNMT",
                "note": "Lo recibe por correo electrónico al pedir el certificado en la web de la FNMT. Solo para el "
                "certificado digital.",
                "optional": True,
                "en": {
                    "text": "FNMT request code",
                    "note": "You receive it by email when you request the certificate on the FNMT website. Only for "
                    "the digital certificate.",
                },
            },
            {
                "text": "Teléfono móvil y dirección de correo electrónico",
                "note": "Para el registro en Cl@ve: recibirá un SMS de verificación.",
                "optional": True,
                "en": {
                    "text": "Mobile phone and email address",
                    "note": "For Cl@ve registration: you will receive a verification text message.",
                },
            },
        ],
        "en": {
            "name": "Digital certificate (FNMT) and Cl@ve registration",
            "summary": "Prove your identity in person to get an FNMT digital certificate or to register for Cl@ve.",
            "description": "A digital certificate and Cl@ve let you deal with the Town Hall and other administrations "
            "online. For the certificate, first request it on the FNMT website and you will receive a request code by "
            "email; at the office we check your identity and, a few hours later, you can download it on the same "
            "computer and browser you used to request it. For Cl@ve you only need your identity document and a "
            "mobile phone.",
            "who_can_apply": "Adults or emancipated minors with a DNI or NIE.",
            "fee": "Free",
            "keywords": "digital certificate, FNMT, Cl@ve, clave, electronic signature, identity, verify, online",
        },
    },
    {
        "slug": "objetos-perdidos",
        "area": "otros",
        "offices": {OAC: 1},
        "name": "Objetos perdidos",
        "summary": "Consulte si han entregado un objeto que ha perdido en el municipio y recójalo sin cita previa.",
        "description": "La Oficina de Objetos Perdidos guarda durante dos años los objetos encontrados en la calle, en "
        "los autobuses urbanos y en los edificios municipales. Puede consultar el listado de objetos en la sede "
        "electrónica o por teléfono. Para recoger el suyo, acuda sin cita a la OAC de la Casa Consistorial con su "
        "documento de identidad y descríbalo. Si encuentra un objeto, puede entregarlo en la misma oficina o a la "
        "Policía Local.",
        "who_can_apply": "La persona propietaria del objeto o alguien con su autorización.",
        "fee": "Gratuito",
        "duration_minutes": 10,
        "needs_appointment": False,
        "requires_document": False,
        "online_url": f"{SEDE}/objetos-perdidos",
        "keywords": "objetos perdidos, he perdido, cartera, llaves, móvil, encontrado, extraviado, paraguas",
        "requirements": [
            ID_DOCUMENT,
            {
                "text": "Descripción del objeto y, si es posible, del lugar y la fecha en que lo perdió",
                "en": {"text": "A description of the item and, if possible, where and when you lost it"},
            },
            {
                "text": "Factura u otra prueba de que el objeto es suyo",
                "note": "Para objetos de valor, como teléfonos móviles u ordenadores.",
                "optional": True,
                "en": {
                    "text": "Receipt or other proof that the item is yours",
                    "note": "For valuable items such as mobile phones or laptops.",
                },
            },
            REPRESENTATION,
        ],
        "en": {
            "name": "Lost property",
            "summary": "Check whether an item you lost in the town has been handed in, and collect it without an "
            "appointment.",
            "description": "The Lost Property Office keeps items found in the street, on town buses and in municipal "
            "buildings for two years. You can check the list of items online or by phone. To collect yours, come to "
            "the OAC at the Town Hall without an appointment, bring your identity document and describe the item. If "
            "you find something, you can hand it in at the same office or to the Local Police.",
            "who_can_apply": "The owner of the item or someone they have authorised.",
            "fee": "Free",
            "keywords": "lost property, lost, wallet, keys, mobile phone, found, missing, umbrella",
        },
    },
]

# Public holidays (office_id None). 2026: BOCM decree for the Comunidad de Madrid (1 Nov and 6 Dec fall on Sunday
# and move to Monday). 2027 is not yet published: assumed like 2021, which had the same calendar (2 May on Sunday
# moves to Monday 3 May; 15 Aug on Sunday is replaced by San José, 19 Mar). Sunday national holidays are listed too.
HOLIDAY_NAMES = {
    "new-year": {"reason": "Año Nuevo", "en": {"reason": "New Year's Day"}},
    "epiphany": {"reason": "Epifanía del Señor (Reyes)", "en": {"reason": "Epiphany (Three Kings' Day)"}},
    "san-jose": {"reason": "San José", "en": {"reason": "Saint Joseph's Day"}},
    "holy-thursday": {"reason": "Jueves Santo", "en": {"reason": "Maundy Thursday"}},
    "good-friday": {"reason": "Viernes Santo", "en": {"reason": "Good Friday"}},
    "labour-day": {"reason": "Fiesta del Trabajo", "en": {"reason": "Labour Day"}},
    "madrid-day": {"reason": "Fiesta de la Comunidad de Madrid", "en": {"reason": "Community of Madrid Day"}},
    "madrid-day-moved": {
        "reason": "Lunes siguiente a la Fiesta de la Comunidad de Madrid",
        "en": {"reason": "Community of Madrid Day (moved to Monday)"},
    },
    "assumption": {"reason": "Asunción de la Virgen", "en": {"reason": "Assumption Day"}},
    "national-day": {"reason": "Fiesta Nacional de España", "en": {"reason": "Spanish National Day"}},
    "all-saints": {"reason": "Todos los Santos", "en": {"reason": "All Saints' Day"}},
    "all-saints-moved": {
        "reason": "Lunes siguiente a Todos los Santos",
        "en": {"reason": "All Saints' Day (moved to Monday)"},
    },
    "constitution": {"reason": "Día de la Constitución Española", "en": {"reason": "Constitution Day"}},
    "constitution-moved": {
        "reason": "Lunes siguiente al Día de la Constitución",
        "en": {"reason": "Constitution Day (moved to Monday)"},
    },
    "immaculate": {"reason": "Inmaculada Concepción", "en": {"reason": "Immaculate Conception"}},
    "christmas": {"reason": "Natividad del Señor (Navidad)", "en": {"reason": "Christmas Day"}},
    "san-isidro": {
        "reason": "Fiesta local: San Isidro Labrador",
        "en": {"reason": "Local holiday: Saint Isidore's Day"},
    },
    "san-isidro-moved": {
        "reason": "Fiesta local: San Isidro Labrador (traslado al lunes)",
        "en": {"reason": "Local holiday: Saint Isidore's Day (moved to Monday)"},
    },
    "virgen-del-pinar": {
        "reason": "Fiesta local: Nuestra Señora del Pinar, patrona de la villa",
        "en": {"reason": "Local holiday: Our Lady of the Pinar, the town's patron saint"},
    },
}
PUBLIC_HOLIDAYS = [
    (date(2026, 1, 1), "new-year"),
    (date(2026, 1, 6), "epiphany"),
    (date(2026, 4, 2), "holy-thursday"),
    (date(2026, 4, 3), "good-friday"),
    (date(2026, 5, 1), "labour-day"),
    (date(2026, 5, 2), "madrid-day"),  # Saturday, not moved
    (date(2026, 5, 15), "san-isidro"),
    (date(2026, 8, 15), "assumption"),  # Saturday, not moved
    (date(2026, 9, 8), "virgen-del-pinar"),
    (date(2026, 10, 12), "national-day"),
    (date(2026, 11, 1), "all-saints"),  # Sunday
    (date(2026, 11, 2), "all-saints-moved"),
    (date(2026, 12, 6), "constitution"),  # Sunday
    (date(2026, 12, 7), "constitution-moved"),
    (date(2026, 12, 8), "immaculate"),
    (date(2026, 12, 25), "christmas"),
    (date(2027, 1, 1), "new-year"),
    (date(2027, 1, 6), "epiphany"),
    (date(2027, 3, 19), "san-jose"),
    (date(2027, 3, 25), "holy-thursday"),
    (date(2027, 3, 26), "good-friday"),
    (date(2027, 5, 1), "labour-day"),  # Saturday
    (date(2027, 5, 2), "madrid-day"),  # Sunday
    (date(2027, 5, 3), "madrid-day-moved"),
    (date(2027, 5, 17), "san-isidro-moved"),  # 15 May is a Saturday
    (date(2027, 8, 15), "assumption"),  # Sunday
    (date(2027, 9, 8), "virgen-del-pinar"),
    (date(2027, 10, 12), "national-day"),
    (date(2027, 11, 1), "all-saints"),
    (date(2027, 12, 6), "constitution"),
    (date(2027, 12, 8), "immaculate"),
    (date(2027, 12, 25), "christmas"),  # Saturday
]
OFFICE_CLOSURES = [
    {
        "office": NORTE,
        "day": date(2026, 12, 14),
        "reason": "Cerrada por obras de mejora de la climatización",
        "en": {"reason": "Closed for work on the heating and air-conditioning"},
    },
]


# --- Requests (seguimiento) -----------------------------------------------------------------------------------
# Departments answering citizens' requests: public contact details only.
DEPARTMENTS = [
    {"slug": "atencion-ciudadania", "name": "Atención a la Ciudadanía", "email": "atencion@villanuevadelpinar.es",
     "phone": "918 45 20 00", "en": {"name": "Citizen Services"}},
    {"slug": "vias-publicas", "name": "Vías Públicas y Alumbrado", "email": "viaspublicas@villanuevadelpinar.es",
     "phone": "918 45 20 40", "en": {"name": "Streets and Street Lighting"}},
    {"slug": "servicios-sociales", "name": "Servicios Sociales", "email": "serviciossociales@villanuevadelpinar.es",
     "phone": "918 45 22 30", "en": {"name": "Social Services"}},
    {"slug": "urbanismo", "name": "Urbanismo", "email": "urbanismo@villanuevadelpinar.es", "phone": "918 45 22 35",
     "en": {"name": "Planning and Building Control"}},
    {"slug": "hacienda", "name": "Hacienda y Tributos", "email": "tributos@villanuevadelpinar.es",
     "phone": "918 45 20 20", "en": {"name": "Finance and Local Taxes"}},
    {"slug": "secretaria", "name": "Secretaría General", "email": "secretaria@villanuevadelpinar.es",
     "phone": "918 45 20 10", "en": {"name": "Town Clerk's Office (Secretaría)"}},
]

# What citizens can send and follow. Time limits: "response_days" working days, or "response_months" counted
# date to date — 3 months is the general statutory limit of Ley 39/2015 (art. 21.3) where no rule sets another;
# 1 month for an appeal against a local tax (recurso de reposición, TRLRHL art. 14.2). "public": listed in the
# Open311 API (street problems only: what anyone passing by can see anyway).
REQUEST_TYPES = [
    {
        "slug": "incidencia-via-publica",
        "department": "vias-publicas",
        "name": "Incidencia en la vía pública",
        "description": "Avise de un bache, una acera o un bordillo rotos, una señal caída, un banco o una papelera "
        "dañados, una alcantarilla atascada u otro desperfecto en la calle, una plaza o un parque.",
        "hint": "Diga qué ocurre y dónde exactamente (calle, número, esquina o un punto de referencia). Una foto "
        "ayuda mucho. No escriba datos personales: la descripción de estos avisos es pública.",
        "keywords": "bache, acera, calzada, bordillo, señal, banco, papelera, alcantarilla, socavón, vandalismo, "
        "parque, desperfecto",
        "response_days": 10,
        "allows_photo": True,
        "allows_location": True,
        "needs_location": True,
        "public": True,
        "en": {
            "name": "Problem in a street or public space",
            "description": "Report a pothole, a broken pavement or kerb, a fallen sign, a damaged bench or bin, a "
            "blocked drain or any other damage in a street, square or park.",
            "hint": "Say what is wrong and exactly where (street, number, corner or a landmark). A photo helps a lot. "
            "Do not write personal details: the description of these reports is public.",
            "keywords": "pothole, pavement, road, kerb, sign, bench, bin, drain, sinkhole, vandalism, park, damage",
        },
    },
    {
        "slug": "alumbrado-publico",
        "department": "vias-publicas",
        "name": "Farola apagada o avería del alumbrado",
        "description": "Una farola apagada, que parpadea o se queda encendida de día, un tramo de calle a oscuras o "
        "un báculo dañado o con cables a la vista.",
        "hint": "Indique la calle y el número más cercano o el número que lleva pintado la farola. Si hay cables a la "
        "vista, llame también a la Policía Local (092).",
        "keywords": "farola, luz, alumbrado, apagada, oscuras, parpadea, bombilla, cables, báculo",
        "response_days": 5,
        "allows_photo": True,
        "allows_location": True,
        "needs_location": True,
        "public": True,
        "en": {
            "name": "Street light out or faulty",
            "description": "A street light that is out, flickers or stays on during the day, a dark stretch of street, "
            "or a damaged lamp post or one with exposed wires.",
            "hint": "Give the street and the nearest number, or the number painted on the lamp post. If wires are "
            "exposed, also call the Local Police (092).",
            "keywords": "street light, lamp, lighting, out, dark, flickering, bulb, wires, lamp post",
        },
    },
    {
        "slug": "queja-sugerencia",
        "department": "atencion-ciudadania",
        "name": "Queja o sugerencia",
        "description": "Díganos qué no ha funcionado bien en un servicio municipal o cómo podríamos mejorarlo. "
        "Contestamos a todas las quejas y sugerencias que dejan un medio de contacto.",
        "hint": "Cuente qué pasó, cuándo y en qué servicio u oficina. Si quiere respuesta, deje su correo o su "
        "teléfono.",
        "keywords": "queja, reclamación, sugerencia, mejora, mala atención, felicitación, opinión",
        "response_days": 20,
        "allows_photo": True,
        "en": {
            "name": "Complaint or suggestion",
            "description": "Tell us what did not work well in a municipal service, or how we could improve it. We "
            "answer every complaint and suggestion that leaves a way to contact you.",
            "hint": "Say what happened, when, and which service or office. If you would like an answer, leave your "
            "email or phone.",
            "keywords": "complaint, claim, suggestion, improvement, poor service, thanks, feedback",
        },
    },
    {
        "slug": "instancia-general",
        "department": "atencion-ciudadania",
        "name": "Instancia general",
        "description": "Cualquier solicitud al Ayuntamiento que no tenga un trámite propio: pedir algo, aportar "
        "documentos o comunicar un hecho. Queda registrada con fecha y hora, como en el Registro General.",
        "hint": "Explique qué solicita y por qué. Si aporta documentos, adjúntelos en PDF o como foto.",
        "keywords": "instancia, solicitud, escrito, registro, petición, presentar documentos",
        "response_months": 3,
        "allows_photo": True,
        "allows_files": True,
        "needs_contact": True,
        "needs_document": True,
        "en": {
            "name": "General application",
            "description": "Any request to the town hall that has no procedure of its own: ask for something, "
            "hand in documents or report a fact. It is registered with its date and time, as at the General "
            "Registry.",
            "hint": "Explain what you are asking for and why. If you hand in documents, attach them as PDF or photos.",
            "keywords": "application, request, letter, registry, petition, hand in documents",
        },
    },
    {
        "slug": "solicitud-certificado",
        "department": "secretaria",
        "name": "Solicitud de certificado",
        "description": "Certificados que expide la Secretaría General: de acuerdos del Pleno o de la Junta de "
        "Gobierno, de bienes municipales, de antigüedad de una vivienda o de convivencia. El volante y el "
        "certificado de empadronamiento tienen su propio trámite.",
        "hint": "Diga qué certificado necesita, para qué y, si lo sabe, la fecha o el número del expediente.",
        "keywords": "certificado, certificación, acuerdo, pleno, convivencia, antigüedad, copia compulsada",
        "response_days": 10,
        "allows_files": True,
        "needs_contact": True,
        "needs_document": True,
        "en": {
            "name": "Request for a certificate",
            "description": "Certificates issued by the Town Clerk's Office: of decisions of the council or its "
            "executive board, of municipal property, of a dwelling's age, or of who lives together. The register "
            "certificate (empadronamiento) has its own procedure.",
            "hint": "Say which certificate you need, what for and, if you know it, the date or the file number.",
            "keywords": "certificate, certification, council decision, cohabitation, dwelling age, certified copy",
        },
    },
    {
        "slug": "certificado-urbanistico",
        "department": "urbanismo",
        "name": "Informe o certificado urbanístico",
        "description": "Qué se puede construir o hacer en una parcela o un local, si una obra está en regla o la "
        "calificación de un suelo, antes de comprar, vender o pedir una licencia.",
        "hint": "Indique la dirección o la referencia catastral y qué quiere saber. Un plano o una nota simple "
        "ayudan.",
        "keywords": "informe urbanístico, cédula urbanística, parcela, calificación, referencia catastral, "
        "edificabilidad",
        "response_months": 1,
        "allows_files": True,
        "allows_location": True,
        "needs_location": True,
        "needs_contact": True,
        "needs_document": True,
        "en": {
            "name": "Planning report or certificate",
            "description": "What can be built or done on a plot or premises, whether some works are in order, or "
            "how a piece of land is zoned, before buying, selling or applying for a licence.",
            "hint": "Give the address or the land registry reference and what you want to know. A plan or a land "
            "registry extract helps.",
            "keywords": "planning report, zoning certificate, plot, zoning, cadastral reference, building rights",
        },
    },
    {
        "slug": "reclamacion-tributaria",
        "department": "hacienda",
        "name": "Reclamación sobre un recibo, impuesto o tasa",
        "description": "Si cree que un recibo del IBI, del impuesto de vehículos, de la basura u otra tasa es "
        "incorrecto, o le han cobrado dos veces. Se tramita como recurso de reposición.",
        "hint": "Indique el recibo (concepto, año y número si lo tiene) y por qué cree que no es correcto. Adjunte "
        "el recibo y cualquier justificante.",
        "keywords": "recurso, reclamación, recibo, IBI, vehículos, basura, tasa, cobro indebido, devolución",
        "response_months": 1,
        "allows_photo": True,
        "allows_files": True,
        "needs_contact": True,
        "needs_document": True,
        "en": {
            "name": "Appeal about a bill, local tax or fee",
            "description": "If you think a bill for property tax (IBI), vehicle tax, waste collection or another "
            "fee is wrong, or you have been charged twice. It is handled as an appeal (recurso de reposición).",
            "hint": "Identify the bill (what for, year and number if you have it) and why you think it is wrong. "
            "Attach the bill and any proof.",
            "keywords": "appeal, claim, bill, property tax, vehicle tax, waste, fee, overcharge, refund",
        },
    },
    {
        "slug": "ayuda-social",
        "department": "servicios-sociales",
        "name": "Solicitud de ayuda social",
        "description": "Para pedir orientación o una ayuda de los Servicios Sociales: ayuda a domicilio, "
        "teleasistencia, ayudas de emergencia para alimentos, alquiler o suministros, o apoyo a familias. Una "
        "trabajadora social se pondrá en contacto con usted.",
        "hint": "Cuéntenos brevemente su situación y cuándo podemos llamarle. Solo lo leerá el equipo de Servicios "
        "Sociales. Si es urgente, llame al 918 45 22 30.",
        "keywords": "ayuda, servicios sociales, emergencia social, alquiler, luz, alimentos, dependencia, ayuda a "
        "domicilio, teleasistencia",
        "response_months": 3,
        "allows_files": True,
        "needs_contact": True,
        "en": {
            "name": "Request for social support",
            "description": "To ask Social Services for advice or support: home help, telecare, emergency help with "
            "food, rent or bills, or family support. A social worker will contact you.",
            "hint": "Tell us briefly about your situation and when we can call you. Only the Social Services team "
            "will read it. If it is urgent, call 918 45 22 30.",
            "keywords": "help, social services, social emergency, rent, electricity, food, dependency, home help, "
            "telecare",
        },
    },
]


@cache
def _catalogue(lang: str) -> dict[tuple[str, str], str]:
    with open(CONTENT_PO / f"{lang}.po", "rb") as f:
        return {(m.context, m.id): m.string for m in read_po(f) if m.id and m.string and not m.fuzzy}


def _translations(table: str, item: dict, fields: set[str]) -> dict[str, dict[str, str]]:
    found = {lang: item[lang] for lang in INLINE_LANGUAGES if lang in item}
    for lang in PO_LANGUAGES:
        texts = {f: _catalogue(lang).get((f"{table}.{f}", item[f])) for f in fields}
        found[lang] = {f: text for f, text in texts.items() if text}
    return found


def _insert(session: Session, model, item: dict, **extra):
    """Add one row built from `item` (plus `extra` columns) and its translations; returns the flushed row."""
    row = model(**{k: v for k, v in item.items() if k in model.model_fields and k not in extra}, **extra)
    session.add(row)
    session.flush()  # assigns row.id for the translations
    table = model.__tablename__
    expected = {f for f in TRANSLATABLE.get(table, ()) if getattr(row, f)}
    translations = _translations(table, item, expected)
    for lang in LANGUAGES:
        texts = translations.get(lang, {})
        if set(texts) != expected:
            raise ValueError(f"{table} {item.get('slug', item.get('text', ''))!r}: {lang!r} translates "
                             f"{sorted(texts)}, expected {sorted(expected)}")
        session.add_all(
            ContentTranslation(table_name=table, row_id=row.id, field=field, lang=lang, text=text)
            for field, text in texts.items()
        )
    return row


def _map_url(address: str) -> str:
    return f"https://www.openstreetmap.org/search?query={quote_plus(address)}"


def seed_demo(session: Session) -> bool:
    """Insert the demo town hall and commit. Does nothing and returns False if a municipality already exists."""
    if session.exec(select(Municipality)).first() is not None:
        return False
    session.add(Municipality(**MUNICIPALITY))
    areas = {a["slug"]: _insert(session, Area, a, position=i) for i, a in enumerate(AREAS, 1)}
    offices = {o["slug"]: _insert(session, Office, o, map_url=_map_url(o["address"])) for o in OFFICES}
    hours = {o["slug"]: o["hours"] for o in OFFICES}
    for item in PROCEDURES:
        proc = _insert(session, Procedure, item, area_id=areas[item["area"]].id)
        for position, requirement in enumerate(item["requirements"], 1):
            _insert(session, Requirement, requirement, procedure_id=proc.id, position=position)
        for slug, desks in item["offices"].items():
            office_id = offices[slug].id
            session.add(ProcedureOffice(procedure_id=proc.id, office_id=office_id))
            if not proc.needs_appointment:
                continue
            session.add_all(
                Schedule(office_id=office_id, procedure_id=proc.id, weekday=day, opens=opens, closes=closes,
                         slot_minutes=proc.duration_minutes, capacity=desks)
                for days, opens, closes in hours[slug]
                for day in days
                if day in item.get("weekdays", days)
            )
    for day, name in PUBLIC_HOLIDAYS:
        _insert(session, Closure, HOLIDAY_NAMES[name], day=day, office_id=None)
    for closure in OFFICE_CLOSURES:
        _insert(session, Closure, closure, office_id=offices[closure["office"]].id)
    _insert_request_types(session)
    session.commit()
    return True


def _insert_request_types(session: Session) -> None:
    departments = {d["slug"]: _insert(session, Department, d, position=i) for i, d in enumerate(DEPARTMENTS, 1)}
    for position, item in enumerate(REQUEST_TYPES, 1):
        _insert(session, RequestType, item, department_id=departments[item["department"]].id, position=position)


def seed_request_types(session: Session) -> bool:
    """Add the departments and request types to a database seeded before they existed; False if it has some."""
    if session.exec(select(Department)).first() is not None:
        return False
    _insert_request_types(session)
    session.commit()
    return True


def _content_items():
    """(table, item) for every translatable item of the demo data, in seeding order."""
    yield from (("area", a) for a in AREAS)
    yield from (("office", o) for o in OFFICES)
    for item in PROCEDURES:
        yield "procedure", item
        yield from (("requirement", r) for r in item["requirements"])
    yield from (("closure", HOLIDAY_NAMES[name]) for _, name in PUBLIC_HOLIDAYS)
    yield from (("closure", c) for c in OFFICE_CLOSURES)
    yield from (("department", d) for d in DEPARTMENTS)
    yield from (("requesttype", r) for r in REQUEST_TYPES)


def write_template(path: Path = CONTENT_PO / "content.pot") -> int:
    """The catalogue template of the demo content: Spanish source, English as a translator's comment."""
    catalog = Catalog(project="Cita content", locale=None)
    for table, item in _content_items():
        for field in TRANSLATABLE[table]:
            if item.get(field):
                english = item.get("en", {}).get(field, "")
                catalog.add(item[field], context=f"{table}.{field}", auto_comments=[f"en: {english}"])
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        write_po(f, catalog, width=116, omit_header=False)
    return len(catalog)


def main() -> None:
    """Seeds the database of DATABASE_URL; its schema comes from the migrations (`reflex db migrate`).
    `python -m pwa_app.seed pot` writes the content catalogue template instead."""
    if sys.argv[1:] == ["pot"]:
        print(f"{write_template()} texts in {CONTENT_PO / 'content.pot'}")
        return
    with db.session() as session:
        seeded = seed_demo(session)
        added = not seeded and seed_request_types(session)
    print("Demo data seeded." if seeded else "Request types added." if added
          else "A municipality already exists: nothing seeded.")


if __name__ == "__main__":
    main()
