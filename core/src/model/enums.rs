//! Every enumeration of the data model (DESIGN §3, domain.md §9), with Indonesian and English labels.

use super::labels::labelled_enum;

labelled_enum! {
    /// The system a target record came from.
    Source {
        P3ke = "P3KE", "P3KE (Kemenko PMK)", "P3KE (Kemenko PMK)";
        Dtks = "DTKS", "DTKS (Kemensos)", "DTKS (Ministry of Social Affairs)";
        Dtsen = "DTSEN", "DTSEN (BPS)", "DTSEN (Statistics Indonesia)";
        Regsosek = "REGSOSEK", "Regsosek 2022", "Regsosek 2022";
        NewProposal = "NEW_PROPOSAL", "Usulan baru", "New proposal";
        Other = "OTHER", "Lainnya", "Other";
    }
}

labelled_enum! {
    /// Whether a household is on the target list.
    TargetStatus {
        Active = "ACTIVE", "Aktif", "Active";
        Removed = "REMOVED", "Keluar sasaran", "Removed";
        Proposed = "PROPOSED", "Usulan", "Proposed";
        MergedInto = "MERGED_INTO", "Digabung ke keluarga lain", "Merged into another household";
    }
}

labelled_enum! {
    /// The source file's own priority flag for verification ("Prioritas Verval").
    SourcePriority {
        Normal = "NORMAL", "Normal", "Normal";
        DuplicateFamily = "DUPLICATE_FAMILY", "Keluarga duplikat (NIK & nama)", "Duplicate family (NIK and name)";
        NikEmpty = "NIK_EMPTY", "Keluarga NIK kosong", "Family without NIK";
        NoMember17 = "NO_MEMBER_17", "Keluarga tidak ada usia 17+ tahun", "Family without a member aged 17+";
    }
}

labelled_enum! {
    /// Programs recorded for a household in the source file.
    SourceProgram {
        Bpnt = "BPNT", "BPNT", "Non-cash food aid (BPNT)";
        Bpum = "BPUM", "BPUM", "Micro-business aid (BPUM)";
        Bst = "BST", "BST", "Cash social aid (BST)";
        Pkh = "PKH", "PKH", "Family Hope Programme (PKH)";
        Sembako = "SEMBAKO", "Sembako", "Staple food aid (Sembako)";
        Prakerja = "PRAKERJA", "Kartu Prakerja", "Pre-employment card";
        Kur = "KUR", "KUR", "People's business credit (KUR)";
        Dtks = "DTKS", "Terdaftar DTKS", "Listed in DTKS";
    }
}

labelled_enum! {
    /// Why a member has no NIK.
    NikMissingReason {
        NotYetIssued = "NOT_YET_ISSUED", "Belum punya NIK", "Has no NIK yet";
        DocumentUnavailable = "DOCUMENT_UNAVAILABLE", "Dokumen tidak ada", "Card not available";
        Unknown = "UNKNOWN", "Tidak tahu", "Unknown";
    }
}

labelled_enum! {
    Sex {
        Male = "MALE", "Laki-laki", "Male";
        Female = "FEMALE", "Perempuan", "Female";
    }
}

labelled_enum! {
    /// Relation to the head of the family (a superset of P3KE's four values).
    Relation {
        Head = "HEAD", "Kepala keluarga", "Head of family";
        Spouse = "SPOUSE", "Istri/suami", "Spouse";
        Child = "CHILD", "Anak", "Child";
        ChildInLaw = "CHILD_IN_LAW", "Menantu", "Child-in-law";
        Grandchild = "GRANDCHILD", "Cucu", "Grandchild";
        ParentOrInLaw = "PARENT_OR_IN_LAW", "Orang tua/mertua", "Parent or parent-in-law";
        OtherRelative = "OTHER_RELATIVE", "Famili lain", "Other relative";
        HouseholdHelp = "HOUSEHOLD_HELP", "Pembantu", "Household help";
        Other = "OTHER", "Lainnya", "Other";
    }
}

labelled_enum! {
    MaritalStatus {
        NeverMarried = "NEVER_MARRIED", "Belum kawin", "Never married";
        Married = "MARRIED", "Kawin", "Married";
        Divorced = "DIVORCED", "Cerai hidup", "Divorced";
        Widowed = "WIDOWED", "Cerai mati", "Widowed";
    }
}

labelled_enum! {
    Education {
        NoSchooling = "NO_SCHOOLING", "Tidak/belum sekolah", "No schooling";
        PrimaryNotCompleted = "PRIMARY_NOT_COMPLETED", "Tidak tamat SD", "Primary not completed";
        InPrimary = "IN_PRIMARY", "Masih SD", "In primary school";
        PrimaryCompleted = "PRIMARY_COMPLETED", "Tamat SD", "Primary completed";
        InJuniorSecondary = "IN_JUNIOR_SECONDARY", "Masih SLTP", "In junior secondary";
        JuniorSecondaryCompleted = "JUNIOR_SECONDARY_COMPLETED", "Tamat SLTP", "Junior secondary completed";
        InSeniorSecondary = "IN_SENIOR_SECONDARY", "Masih SLTA", "In senior secondary";
        SeniorSecondaryCompleted = "SENIOR_SECONDARY_COMPLETED", "Tamat SLTA", "Senior secondary completed";
        InTertiary = "IN_TERTIARY", "Masih perguruan tinggi", "In higher education";
        TertiaryCompleted = "TERTIARY_COMPLETED", "Tamat perguruan tinggi/akademi", "Higher education completed";
    }
}

labelled_enum! {
    Occupation {
        NotWorking = "NOT_WORKING", "Tidak/belum bekerja", "Not working";
        Farmer = "FARMER", "Petani", "Farmer";
        Fisher = "FISHER", "Nelayan", "Fisher";
        Trader = "TRADER", "Pedagang", "Trader";
        CivilServant = "CIVIL_SERVANT", "PNS/TNI/Polri", "Civil servant, military or police";
        PrivateEmployee = "PRIVATE_EMPLOYEE", "Pegawai swasta", "Private employee";
        SelfEmployed = "SELF_EMPLOYED", "Wiraswasta", "Self-employed";
        CasualWorker = "CASUAL_WORKER", "Pekerja lepas", "Casual worker";
        Retired = "RETIRED", "Pensiunan", "Retired";
        StateOfficial = "STATE_OFFICIAL", "Pejabat negara", "State official";
        Other = "OTHER", "Lainnya", "Other";
    }
}

labelled_enum! {
    EmploymentStatus {
        OwnAccount = "OWN_ACCOUNT", "Berusaha sendiri", "Own-account worker";
        EmployerTemporaryWorkers = "EMPLOYER_TEMPORARY_WORKERS", "Berusaha dibantu buruh tidak tetap", "Employer with temporary workers";
        EmployerPermanentWorkers = "EMPLOYER_PERMANENT_WORKERS", "Berusaha dibantu buruh tetap", "Employer with permanent workers";
        Employee = "EMPLOYEE", "Buruh/karyawan", "Employee";
        Freelance = "FREELANCE", "Pekerja bebas", "Freelance worker";
        FamilyWorker = "FAMILY_WORKER", "Pekerja keluarga", "Unpaid family worker";
    }
}

labelled_enum! {
    Disability {
        Physical = "PHYSICAL", "Fisik", "Physical";
        Visual = "VISUAL", "Netra", "Visual";
        Hearing = "HEARING", "Rungu", "Hearing";
        Speech = "SPEECH", "Wicara", "Speech";
        Mental = "MENTAL", "Mental", "Mental";
        Intellectual = "INTELLECTUAL", "Intelektual", "Intellectual";
        Other = "OTHER", "Lainnya", "Other";
    }
}

labelled_enum! {
    /// Whether a member's NIK matched the population register.
    DukcapilMatch {
        Matched = "MATCHED", "Padan", "Matched";
        NotMatched = "NOT_MATCHED", "Tidak padan", "Not matched";
        Unchecked = "UNCHECKED", "Belum dicek", "Unchecked";
    }
}

labelled_enum! {
    /// Whether a member still lives in the household.
    Presence {
        Present = "PRESENT", "Ada", "Present";
        MovedOut = "MOVED_OUT", "Pindah", "Moved out";
        Deceased = "DECEASED", "Meninggal", "Deceased";
        Unknown = "UNKNOWN", "Tidak diketahui", "Unknown";
        New = "NEW", "Anggota baru", "New member";
    }
}

labelled_enum! {
    /// What the enumerator found at the door.
    Outcome {
        Found = "FOUND", "Ditemukan", "Found and interviewed";
        FoundRefused = "FOUND_REFUSED", "Ditemukan, menolak", "Found, refused";
        NobodyHome = "NOBODY_HOME", "Tidak ada responden", "Nobody home";
        MovedWithinVillage = "MOVED_WITHIN_VILLAGE", "Pindah dalam desa", "Moved within the village";
        MovedAway = "MOVED_AWAY", "Pindah keluar desa", "Moved out of the village";
        NotFound = "NOT_FOUND", "Tidak ditemukan", "Not found";
        DwellingGone = "DWELLING_GONE", "Bangunan tidak ada", "Dwelling gone";
        AllDeceased = "ALL_DECEASED", "Seluruh anggota meninggal", "All members deceased";
        DuplicateOf = "DUPLICATE_OF", "Data ganda", "Duplicate record";
        PartOfOtherFamily = "PART_OF_OTHER_FAMILY", "Bagian keluarga lain", "Part of another listed family";
        Split = "SPLIT", "Keluarga bercerai/pecah KK", "Divorced or family card split";
    }
}

labelled_enum! {
    LocationSource {
        Gps = "GPS", "GPS", "GPS";
        Manual = "MANUAL", "Manual", "Manual";
    }
}

labelled_enum! {
    /// The basis on which the respondent's data were recorded (UU 27/2022).
    Consent {
        Informed = "INFORMED", "Diberitahu (tugas publik)", "Informed (public task)";
        Consented = "CONSENTED", "Setuju", "Consented";
        Refused = "REFUSED", "Menolak", "Refused";
    }
}

labelled_enum! {
    /// Why the family card number differs from the previous record.
    KkChangeReason {
        Split = "SPLIT", "Pecah KK", "Family card split";
        Moved = "MOVED", "Pindah", "Moved";
        HeadDied = "HEAD_DIED", "Kepala keluarga meninggal", "Head of family died";
        Divorce = "DIVORCE", "Cerai", "Divorce";
        DataError = "DATA_ERROR", "Salah data", "Data error";
    }
}

labelled_enum! {
    Tenure {
        Owned = "OWNED", "Milik sendiri", "Owned";
        Rented = "RENTED", "Kontrak/sewa", "Rented";
        RentFree = "RENT_FREE", "Bebas sewa/menumpang", "Rent-free";
        Official = "OFFICIAL", "Dinas", "Official housing";
        Other = "OTHER", "Lainnya", "Other";
    }
}

labelled_enum! {
    Quality {
        Good = "GOOD", "Bagus/kualitas tinggi", "Good quality";
        Poor = "POOR", "Jelek/kualitas rendah", "Poor quality";
    }
}

labelled_enum! {
    FloorMaterial {
        CeramicTile = "CERAMIC_TILE", "Keramik/granit/ubin", "Ceramic, granite or tile";
        Cement = "CEMENT", "Semen", "Cement";
        WoodPlank = "WOOD_PLANK", "Kayu/papan", "Wood or planks";
        Bamboo = "BAMBOO", "Bambu", "Bamboo";
        Earth = "EARTH", "Tanah", "Earth";
        Other = "OTHER", "Lainnya", "Other";
    }
}

labelled_enum! {
    WallMaterial {
        Masonry = "MASONRY", "Tembok", "Masonry";
        MasonryUnplastered = "MASONRY_UNPLASTERED", "Tembok tanpa plester", "Unplastered masonry";
        WoodPlank = "WOOD_PLANK", "Kayu/papan", "Wood or planks";
        Bamboo = "BAMBOO", "Bambu", "Bamboo";
        Zinc = "ZINC", "Seng", "Zinc sheet";
        Other = "OTHER", "Lainnya", "Other";
    }
}

labelled_enum! {
    RoofMaterial {
        Concrete = "CONCRETE", "Beton", "Concrete";
        ClayTile = "CLAY_TILE", "Genteng", "Clay tile";
        AsbestosZinc = "ASBESTOS_ZINC", "Asbes/seng", "Asbestos or zinc";
        WoodShingle = "WOOD_SHINGLE", "Kayu/sirap", "Wood shingle";
        Bamboo = "BAMBOO", "Bambu", "Bamboo";
        ThatchLeaves = "THATCH_LEAVES", "Jerami/ijuk/rumbia/daun", "Thatch or leaves";
        Other = "OTHER", "Lainnya", "Other";
    }
}

labelled_enum! {
    Lighting {
        PlnMetered = "PLN_METERED", "Listrik PLN meteran", "PLN electricity, metered";
        PlnUnmetered = "PLN_UNMETERED", "Listrik PLN tanpa meteran", "PLN electricity, unmetered";
        NonPlnElectricity = "NON_PLN_ELECTRICITY", "Listrik non-PLN", "Non-PLN electricity";
        NotElectricity = "NOT_ELECTRICITY", "Bukan listrik", "Not electricity";
    }
}

labelled_enum! {
    PowerRating {
        W450 = "W450", "450 watt", "450 watts";
        W900 = "W900", "900 watt", "900 watts";
        W1300 = "W1300", "1.300 watt", "1,300 watts";
        W2200 = "W2200", "2.200 watt", "2,200 watts";
        Above2200 = "ABOVE_2200", "Lebih dari 2.200 watt", "Over 2,200 watts";
    }
}

labelled_enum! {
    CookingFuel {
        Electricity = "ELECTRICITY", "Listrik", "Electricity";
        Lpg3kg = "LPG_3KG", "Gas elpiji 3 kg", "LPG 3 kg";
        LpgLarge = "LPG_LARGE", "Gas elpiji 5,5 kg ke atas", "LPG 5.5 kg or more";
        CityGas = "CITY_GAS", "Gas kota", "Piped gas";
        Kerosene = "KEROSENE", "Minyak tanah", "Kerosene";
        CharcoalBriquette = "CHARCOAL_BRIQUETTE", "Arang/briket", "Charcoal or briquettes";
        Firewood = "FIREWOOD", "Kayu bakar", "Firewood";
        NoCooking = "NO_COOKING", "Tidak memasak", "Does not cook";
        Other = "OTHER", "Lainnya", "Other";
    }
}

labelled_enum! {
    DrinkingWater {
        Bottled = "BOTTLED", "Air kemasan", "Bottled water";
        Refill = "REFILL", "Air isi ulang", "Refill water";
        Piped = "PIPED", "Ledeng/PAM", "Piped water";
        Borehole = "BOREHOLE", "Sumur bor", "Borehole";
        ProtectedWell = "PROTECTED_WELL", "Sumur terlindung", "Protected well";
        UnprotectedWell = "UNPROTECTED_WELL", "Sumur tak terlindung", "Unprotected well";
        ProtectedSpring = "PROTECTED_SPRING", "Mata air terlindung", "Protected spring";
        UnprotectedSpring = "UNPROTECTED_SPRING", "Mata air tak terlindung", "Unprotected spring";
        SurfaceWater = "SURFACE_WATER", "Air permukaan (sungai/danau)", "Surface water";
        Rainwater = "RAINWATER", "Air hujan", "Rainwater";
        Other = "OTHER", "Lainnya", "Other";
    }
}

labelled_enum! {
    Sanitation {
        Own = "OWN", "Milik sendiri", "Own toilet";
        Shared = "SHARED", "Bersama", "Shared toilet";
        Public = "PUBLIC", "Umum", "Public toilet";
        None = "NONE", "Tidak ada", "None";
    }
}

labelled_enum! {
    Asset {
        Motorcycle = "MOTORCYCLE", "Sepeda motor", "Motorcycle";
        Car = "CAR", "Mobil", "Car";
        MotorBoat = "MOTOR_BOAT", "Perahu motor", "Motor boat";
        Refrigerator = "REFRIGERATOR", "Kulkas", "Refrigerator";
        Television = "TELEVISION", "Televisi", "Television";
        Laptop = "LAPTOP", "Laptop/komputer", "Laptop or computer";
        GoldSavings = "GOLD_SAVINGS", "Emas/tabungan", "Gold or savings";
        Livestock = "LIVESTOCK", "Ternak", "Livestock";
        Land = "LAND", "Lahan", "Land";
    }
}

labelled_enum! {
    /// Programs the household says it actually receives.
    ProgramReceived {
        Pkh = "PKH", "PKH", "Family Hope Programme (PKH)";
        BpntSembako = "BPNT_SEMBAKO", "BPNT/Sembako", "Food aid (BPNT/Sembako)";
        PbiJkn = "PBI_JKN", "PBI JKN/KIS", "Subsidised health insurance (PBI JKN)";
        BltDd = "BLT_DD", "BLT Dana Desa", "Village fund cash aid (BLT DD)";
        Bst = "BST", "BST", "Cash social aid (BST)";
        PipKip = "PIP_KIP", "PIP/KIP", "Student aid (PIP/KIP)";
        LocalGovernmentAid = "LOCAL_GOVERNMENT_AID", "Bantuan Pemda", "Local government aid";
        Other = "OTHER", "Lainnya", "Other";
    }
}

labelled_enum! {
    /// The enumerator's own judgement of the household.
    Assessment {
        ExtremePoor = "EXTREME_POOR", "Miskin ekstrem", "Extreme poor";
        Poor = "POOR", "Miskin", "Poor";
        Vulnerable = "VULNERABLE", "Rentan", "Vulnerable";
        NotPoor = "NOT_POOR", "Tidak miskin", "Not poor";
    }
}

labelled_enum! {
    Recommendation {
        Keep = "KEEP", "Tetap sasaran", "Keep on the list";
        Remove = "REMOVE", "Keluar sasaran", "Remove from the list";
        CorrectData = "CORRECT_DATA", "Perbaiki data", "Correct the data";
        ProposeNew = "PROPOSE_NEW", "Usul baru", "Propose as new";
        Revisit = "REVISIT", "Kunjungan ulang", "Visit again";
    }
}

labelled_enum! {
    PhotoKind {
        HouseFront = "HOUSE_FRONT", "Rumah tampak depan", "House front";
        Other = "OTHER", "Lainnya", "Other";
    }
}

labelled_enum! {
    /// A supervisor's decision.
    Decision {
        Approve = "APPROVE", "Setujui", "Approve";
        Return = "RETURN", "Kembalikan", "Return to enumerator";
        RequestRevisit = "REQUEST_REVISIT", "Minta kunjungan ulang", "Request a revisit";
        ResolveConflict = "RESOLVE_CONFLICT", "Selesaikan konflik", "Resolve conflict";
        MergeHouseholds = "MERGE_HOUSEHOLDS", "Gabungkan keluarga", "Merge households";
        DismissDuplicate = "DISMISS_DUPLICATE", "Bukan data ganda", "Dismiss duplicate";
    }
}

labelled_enum! {
    /// Where a household stands in verification, as the merge derives it.
    VerificationStatus {
        NotVisited = "NOT_VISITED", "Belum dikunjungi", "Not visited";
        Visited = "VISITED", "Sudah dikunjungi", "Visited";
        NeedsReview = "NEEDS_REVIEW", "Perlu diperiksa", "Needs review";
        RevisitRequested = "REVISIT_REQUESTED", "Diminta kunjungan ulang", "Revisit requested";
        Approved = "APPROVED", "Disetujui", "Approved";
    }
}
